"""The student virtual actor: one student's state and serialized handling, hosted by a shard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from actors.domain.state import (
    CellChange,
    Effect,
    Rules,
    StudentState,
    apply_event,
    status_of,
)
from cellmon.limits import DEFAULT_LIMITS, Limits
from cellmon.views import StudentDetail, StudentRow


class StudentActor:
    """A plain object, not a Ray process: thousands live inside one shard actor."""

    __slots__ = ("state",)

    def __init__(self, student_id: str) -> None:
        self.state = StudentState(student_id)

    def apply(
        self, event: Any, rules: Rules, limits: Limits = DEFAULT_LIMITS
    ) -> tuple[list[Effect], CellChange | None]:
        """Apply one event; returns its effects and the cell it touched."""
        self.state, effects, change = apply_event(self.state, event, rules, limits)
        return effects, change

    def status(self, now: datetime, rules: Rules) -> str:
        """The student's status at `now`."""
        return status_of(self.state, now, rules)

    def summary(self, now: datetime, rules: Rules) -> StudentRow:
        """The row the class overview shows for this student."""
        s = self.state
        return {
            "student_id": s.student_id,
            "name": s.display_name,
            "team": s.display_team,
            "enrolled": s.enrolled,
            "verified": s.verified,
            "status": status_of(s, now, rules),
            "executions": s.executions,
            "errors": s.errors,
            "consecutive_errors": s.consecutive_errors,
            "last_activity_at": iso(s.last_activity_at),
            "last_seen_at": iso(s.last_seen_at),
            "help_since": iso(s.help_since),
            "help_claimed_by": s.help_claimed_by,
            "current_notebook": s.current_notebook,
            "current_cell_index": s.current_cell_index,
            "cells_completed": s.cells_completed,
            "research_consent": s.research_consent,
        }

    def detail(self, now: datetime, rules: Rules) -> StudentDetail:
        """Everything about the student, for the student detail view."""
        s = self.state
        cells = sorted(
            s.cells.values(), key=lambda c: (c.notebook_path or "", c.cell_index or 0, c.cell_id)
        )
        return {
            **self.summary(now, rules),
            "last_error_at": iso(s.last_error_at),
            "errors_resolved_by": s.errors_resolved_by,
            "errors_resolved_at": iso(s.errors_resolved_at),
            "current_cell_id": s.current_cell_id,
            "last_code": s.last_code,
            "last_error": s.last_error,
            "cells": [
                {
                    "notebook_path": c.notebook_path,
                    "cell_id": c.cell_id,
                    "cell_index": c.cell_index,
                    "attempts": c.attempts,
                    "errors": c.errors,
                    "last_status": c.last_status,
                    "first_success_at": iso(c.first_success_at),
                    "last_run_at": iso(c.last_run_at),
                }
                for c in cells
            ],
            "help_history": [
                {
                    "raised_at": iso(e.raised_at),
                    "claimed_at": iso(e.claimed_at),
                    "claimed_by": e.claimed_by,
                    "resolved_at": iso(e.ended_at),
                    "resolved_by": e.resolved_by or "withdrawn by the student",
                    "wait_s": ((e.claimed_at or e.ended_at) - e.raised_at).total_seconds(),
                }
                for e in s.help_history
            ],
            "timeline": [
                {
                    "time": iso(r.time),
                    "cell_index": r.cell_index,
                    "status": r.status,
                    "error_name": r.error_name,
                }
                for r in s.recent_runs
            ],
        }


def iso(value: datetime | None) -> str | None:
    """ISO text of a time, or None."""
    return value.isoformat() if value is not None else None
