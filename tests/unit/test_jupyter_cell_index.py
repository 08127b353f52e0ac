"""Cell index from the saved notebook, through jupyter_server's real contents managers."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_server.services.contents.filemanager import FileContentsManager
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from tornado.web import HTTPError

from jupyter_ext.cell_index import CellIndex, cell_positions

pytestmark = pytest.mark.unit
MANAGERS = [FileContentsManager, AsyncLargeFileManager]


def write(root: Path, path: str, cell_ids: list[str]) -> None:
    """A notebook whose cells (a markdown title, then code) carry these ids, in this order."""
    cells = [new_markdown_cell("# Lesson", id="title")]
    cells += [new_code_cell(f"x = {n}", id=cell_id) for n, cell_id in enumerate(cell_ids)]
    nbformat.write(new_notebook(cells=cells), root / path)


@pytest.fixture(params=MANAGERS, ids=["sync", "async"])
def contents(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    return request.param(root_dir=str(tmp_path))


async def test_index_counts_every_cell_of_the_saved_notebook(contents: Any, tmp_path: Path) -> None:
    write(tmp_path, "lesson.ipynb", ["a", "b", "c"])
    index = CellIndex(contents)
    found = [await index.index_of("lesson.ipynb", cell) for cell in ("title", "a", "c", "new")]
    assert found == [0, 1, 3, None]  # "new": added since the last save, not in the file
    assert index.reads == 1  # one read for every lookup while the file is unchanged


async def test_a_save_is_read_again(contents: Any, tmp_path: Path) -> None:
    write(tmp_path, "lesson.ipynb", ["a", "b"])
    index = CellIndex(contents)
    assert await index.index_of("lesson.ipynb", "new") is None
    write(tmp_path, "lesson.ipynb", ["new", "a", "b"])  # inserted above, then saved
    os.utime(tmp_path / "lesson.ipynb", (1, 1))  # a different modification time for certain
    assert await index.index_of("lesson.ipynb", "new") == 1
    assert await index.index_of("lesson.ipynb", "b") == 3 and index.reads == 2


async def test_a_save_event_beats_a_coarse_clock(tmp_path: Path) -> None:
    """Same size, same mtime (a 1-second filesystem clock): the server's save event decides."""
    write(tmp_path, "lesson.ipynb", ["a", "b"])
    stat = (tmp_path / "lesson.ipynb").stat()
    index = CellIndex(FileContentsManager(root_dir=str(tmp_path)))
    assert await index.index_of("lesson.ipynb", "a") == 1
    write(tmp_path, "lesson.ipynb", ["b", "a"])
    os.utime(tmp_path / "lesson.ipynb", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert await index.index_of("lesson.ipynb", "a") == 1  # the change cannot be seen
    index.forget("lesson.ipynb")
    assert await index.index_of("lesson.ipynb", "a") == 2


@pytest.mark.parametrize("path", [None, "", "notes.txt", "missing.ipynb", "broken.ipynb"])
async def test_no_index_when_the_notebook_cannot_be_read(
    contents: Any, tmp_path: Path, path: str | None
) -> None:
    (tmp_path / "notes.txt").write_text("a")
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    assert await CellIndex(contents).index_of(path, "a") is None


async def test_a_notebook_over_the_size_bound_is_not_read(contents: Any, tmp_path: Path) -> None:
    write(tmp_path, "big.ipynb", ["a"])
    index = CellIndex(contents, max_bytes=100)
    assert await index.index_of("big.ipynb", "a") is None and index.reads == 0


async def test_concurrent_runs_share_one_read(contents: Any, tmp_path: Path) -> None:
    write(tmp_path, "lesson.ipynb", [f"c{n}" for n in range(50)])
    index = CellIndex(contents)
    found = await asyncio.gather(*(index.index_of("lesson.ipynb", f"c{n}") for n in range(50)))
    assert found == list(range(1, 51)) and index.reads == 1


async def test_the_cache_is_bounded(contents: Any, tmp_path: Path) -> None:
    index = CellIndex(contents, max_notebooks=2)
    for n in range(5):
        write(tmp_path, f"n{n}.ipynb", ["a"])
        assert await index.index_of(f"n{n}.ipynb", "a") == 1
    assert len(index._cache) == 2
    assert await index.index_of("n0.ipynb", "a") == 1 and index.reads == 6  # evicted: re-read


class NotebooksOnly(FileContentsManager):  # type: ignore[misc]
    """A contents manager that serves .ipynb files only as notebook models."""

    def get(self, path: str, content: bool = True, type: Any = None, **kw: Any) -> Any:
        if type == "file" and path.endswith(".ipynb"):
            raise HTTPError(400, f"{path} is not a file")
        return super().get(path, content=content, type=type, **kw)


async def test_a_manager_without_raw_notebooks_still_gives_indices(tmp_path: Path) -> None:
    write(tmp_path, "lesson.ipynb", ["a", "b"])
    assert await CellIndex(NotebooksOnly(root_dir=str(tmp_path))).index_of("lesson.ipynb", "b") == 2


class Stuck(AsyncLargeFileManager):  # type: ignore[misc]
    """A contents manager whose storage never answers (a hung network drive)."""

    async def get(self, path: str, **kw: Any) -> Any:
        await asyncio.Event().wait()


async def test_a_hung_contents_manager_gives_up_quickly(tmp_path: Path) -> None:
    index = CellIndex(Stuck(root_dir=str(tmp_path)), timeout_s=0.1)
    assert await index.index_of("lesson.ipynb", "a") is None


def test_positions_from_odd_notebooks() -> None:
    assert cell_positions(
        {"cells": [{"id": "a"}, {"id": "a"}, "x", {"id": 3}, {}, {"id": "b"}]}
    ) == {
        "a": 0,
        "b": 5,
    }
    assert cell_positions([]) == cell_positions({"cells": "x"}) == cell_positions(None) == {}
