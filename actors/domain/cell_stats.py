"""Per-cell struggle statistics across a class, kept up to date from each student's cell changes."""

from __future__ import annotations

from dataclasses import dataclass

from actors.domain.state import CellChange, CellProgress, is_failing
from cellmon.views import CellRow


@dataclass(slots=True)
class CellStats:
    """How the class is doing on one cell."""

    notebook_path: str | None
    cell_id: str
    cell_index: int | None = None
    attempts: int = 0
    errors: int = 0
    students_tried: int = 0
    students_succeeded: int = 0
    students_failing: int = 0

    def as_dict(self) -> CellRow:
        """JSON form for snapshots."""
        return {
            "notebook_path": self.notebook_path,
            "cell_id": self.cell_id,
            "cell_index": self.cell_index,
            "attempts": self.attempts,
            "errors": self.errors,
            "students_tried": self.students_tried,
            "students_succeeded": self.students_succeeded,
            "students_failing": self.students_failing,
        }


def track(stats: dict[str, CellStats], change: CellChange) -> None:
    """Fold one student's cell change into the class-wide statistics for that cell."""
    after, before = change.after, change.before
    cell = stats.get(change.key)
    if cell is None:
        cell = stats[change.key] = CellStats(after.notebook_path, after.cell_id)
    if after.cell_index is not None:
        cell.cell_index = after.cell_index
    cell.attempts += after.attempts - (before.attempts if before else 0)
    cell.errors += after.errors - (before.errors if before else 0)
    cell.students_tried += _tried(after) - _tried(before)
    cell.students_succeeded += _succeeded(after) - _succeeded(before)
    cell.students_failing += int(is_failing(after)) - int(is_failing(before))


def _tried(cell: CellProgress | None) -> int:
    return int(cell is not None and cell.attempts > 0)


def _succeeded(cell: CellProgress | None) -> int:
    return int(cell is not None and cell.first_success_at is not None)


def ordered(stats: dict[str, CellStats]) -> list[CellRow]:
    """Cells in notebook order, for the heat map."""

    def position(cell: CellStats) -> tuple[str, int, str]:
        index = cell.cell_index if cell.cell_index is not None else 1 << 30
        return (cell.notebook_path or "", index, cell.cell_id)

    return [cell.as_dict() for cell in sorted(stats.values(), key=position)]
