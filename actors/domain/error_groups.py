"""Who is failing each cell right now, grouped by the error they get. Pure: no I/O.

A teacher deciding what to explain to the whole room wants "12 students: NameError: name 'df'
is not defined" on cell 4, not 12 separate rows. The index is kept up to date from each
student's cell changes, like `cell_stats`, so a snapshot costs the failing cells, not the class.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from actors.domain.state import CellChange, CellProgress
from cellmon.views import CellErrors, ErrorGroup


def is_failing(cell: CellProgress | None) -> bool:
    """The student's latest run of the cell raised an error."""
    return cell is not None and cell.last_status == "error"


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
        ranked = sorted(self._cells.items(), key=lambda item: (-len(item[1]), _position(item)))
        return [_cell_errors(failing) for _, failing in ranked[:limit]]


def _position(item: tuple[str, dict[str, CellProgress]]) -> tuple[str, int, str]:
    some = next(iter(item[1].values()))
    index = some.cell_index if some.cell_index is not None else 1 << 62
    return (some.notebook_path or "", index, some.cell_id)


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
    # Students who moved cells around see the cell at different places: most of them agree.
    indices = Counter(c.cell_index for c in failing.values() if c.cell_index is not None)
    some = next(iter(failing.values()))
    return {
        "notebook_path": some.notebook_path,
        "cell_id": some.cell_id,
        "cell_index": indices.most_common(1)[0][0] if indices else None,
        "failing": len(failing),
        "groups": groups,
    }


def _most_common_code(codes: Iterable[str | None]) -> str | None:
    """The code most of the group ran: one representative for the teacher to read."""
    counts = Counter(code for code in codes if code)
    return counts.most_common(1)[0][0] if counts else None
