"""The notebooks a simulated class works through: cells with stable ids, code and mistakes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from cellmon.simulation.lessons import LESSONS, Snippet

DEFAULT_CELLS = 12


@dataclass(frozen=True)
class Cell:
    """One code cell of a lesson notebook."""

    index: int
    cell_id: str
    snippet: Snippet


@dataclass(frozen=True)
class Notebook:
    """A lesson notebook: its path and its code cells, top to bottom."""

    path: str
    cells: tuple[Cell, ...]


def build_notebook(path: str, snippets: Sequence[Snippet], cells: int = DEFAULT_CELLS) -> Notebook:
    """A notebook of `cells` cells, reusing the snippets in order when it has more cells."""
    if cells < 1 or not snippets:
        raise ValueError("a notebook needs at least one cell and one snippet")
    return Notebook(
        path, tuple(Cell(i, cell_id(path, i), snippets[i % len(snippets)]) for i in range(cells))
    )


def cell_id(path: str, index: int) -> str:
    """A cell id that is the same for every student and every run, as in a shared notebook."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cellmon-sim:{path}#{index}"))


def default_course(cells: int = DEFAULT_CELLS) -> tuple[Notebook, ...]:
    """The lessons of the built-in course, each with `cells` cells."""
    return tuple(build_notebook(path, snippets, cells) for path, snippets in LESSONS)
