"""Who is failing each cell right now, grouped by the error they get. Pure: no I/O.

A teacher deciding what to explain to the whole room wants "12 students: NameError: name 'df'
is not defined" on cell 4, not 12 separate rows. The index is kept up to date from each
student's cell changes, like `cell_stats`, so a snapshot costs the failing cells, not the class.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from actors.domain.state import CellChange, CellProgress, is_failing
from cellmon.views import CellErrors, ErrorGroup


class FailingIndex:
    """For each cell key, the students whose latest run of it failed, with that run."""

    __slots__ = ("_cells",)

    def __init__(self) -> None:
        self._cells: dict[str, dict[str, CellProgress]] = {}

    def track(self, student_id: str, change: CellChange) -> None:
        """Fold one student's cell change in."""
        failing = self._cells.get(change.key)
        if is_failing(change.after):
            if failing is None:
                failing = self._cells[change.key] = {}
            failing[student_id] = change.after
        elif failing is not None:
            failing.pop(student_id, None)
            if not failing:
                del self._cells[change.key]

    def groups(self, limit: int) -> list[CellErrors]:
        """The `limit` cells with most students failing now, each with its error groups (the
        largest first), then in notebook order."""
        ranked = sorted(self._cells.values(), key=lambda failing: (-len(failing), _place(failing)))
        return [_cell_errors(failing) for failing in ranked[:limit]]


def _place(failing: dict[str, CellProgress]) -> tuple[str, int, str]:
    some = next(iter(failing.values()))  # path and id are the cell key's: the same for all
    index = _index(failing)
    return (some.notebook_path or "", index if index is not None else 1 << 62, some.cell_id)


def _index(failing: dict[str, CellProgress]) -> int | None:
    """Students who moved the cell see it at different places: most of them agree (ties: the
    first place, so the answer never depends on the order students arrived in)."""
    counts = Counter(c.cell_index for c in failing.values() if c.cell_index is not None)
    return min(counts, key=lambda index: (-counts[index], index)) if counts else None


def _cell_errors(failing: dict[str, CellProgress]) -> CellErrors:
    by_error: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    for student_id, cell in failing.items():
        by_error[(cell.error_name, cell.error_message or "")].append(student_id)
    groups: list[ErrorGroup] = [
        {
            "error_name": name,
            "message": message,
            "students": sorted(students),
            "code": _most_common_code(failing[s].failing_code for s in students),
        }
        for (name, message), students in by_error.items()
    ]
    groups.sort(key=lambda g: (-len(g["students"]), g["error_name"] or "", g["message"]))
    some = next(iter(failing.values()))
    return {
        "notebook_path": some.notebook_path,
        "cell_id": some.cell_id,
        "cell_index": _index(failing),
        "failing": len(failing),
        "groups": groups,
    }


def _most_common_code(codes: Iterable[str | None]) -> str | None:
    """The code most of the group ran: one representative for the teacher to read (ties: the
    first in text order, independent of the order students arrived in)."""
    counts = Counter(code for code in codes if code)
    return min(counts, key=lambda code: (-counts[code], code)) if counts else None
