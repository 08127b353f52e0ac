"""Which events a classroom can take without passing its bounds. Pure: no I/O, no clock.

Judged before the log write, over the whole group in order, so a group that brings 20,000 new
students admits exactly as many as fit. Replay never judges: what was logged was admitted.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from actors.domain.state import StudentState, cell_id_of, cell_key
from actors.domain.student import StudentActor
from cellmon.contract import INSTRUCTOR_TYPES
from cellmon.limits import Limits


class Admission:
    """Tracks what a group adds to a classroom while its events are judged one by one."""

    def __init__(self, students: dict[str, StudentActor], limits: Limits) -> None:
        self._students, self._limits = students, limits
        self._new_students: set[str] = set()
        self._new_notebooks: defaultdict[str, set[str]] = defaultdict(set)
        self._new_cells: defaultdict[str, set[str]] = defaultdict(set)

    def judge(self, event: Any) -> str | None:
        """Why the event would pass a bound, or None (and then it counts as admitted)."""
        if event.type in INSTRUCTOR_TYPES:  # never a new student, notebook or cell
            return None
        actor = self._students.get(event.student_id)
        known, sid = (actor.state if actor else None), event.student_id
        checks = (self._student(sid, known), self._notebook(event, known), self._cell(event, known))
        refusal = next((reason for reason in checks if reason), None)
        if refusal is None:
            self._admit(event, known)
        return refusal

    def _student(self, sid: str, known: StudentState | None) -> str | None:
        bound = self._limits.students_per_classroom
        if (
            known
            or sid in self._new_students
            or len(self._students) + len(self._new_students) < bound
        ):
            return None
        return f"the classroom has reached its limit of {bound:,} students"

    def _notebook(self, event: Any, known: StudentState | None) -> str | None:
        path, bound = event.notebook_path, self._limits.notebooks_per_student
        new = self._new_notebooks[event.student_id]
        if path is None or path in new or (known and path in known.notebooks):
            return None
        if len(known.notebooks if known else ()) + len(new) < bound:
            return None
        return f"the student has reached the limit of {bound:,} notebooks"

    def _cell(self, event: Any, known: StudentState | None) -> str | None:
        if event.type != "cell_executed":
            return None
        key, bound = (
            cell_key(event.notebook_path, cell_id_of(event)),
            self._limits.cells_per_student,
        )
        new = self._new_cells[event.student_id]
        if key in new or (known and key in known.cells):
            return None
        if len(known.cells if known else ()) + len(new) < bound:
            return None
        return f"the student has reached the limit of {bound:,} tracked cells"

    def _admit(self, event: Any, known: StudentState | None) -> None:
        sid = event.student_id
        if known is None:
            self._new_students.add(sid)
        if event.notebook_path is not None and not (
            known and event.notebook_path in known.notebooks
        ):
            self._new_notebooks[sid].add(event.notebook_path)
        if event.type == "cell_executed":
            key = cell_key(event.notebook_path, cell_id_of(event))
            if not (known and key in known.cells):
                self._new_cells[sid].add(key)
