"""Pure progress state of one student: transitions and status. No Ray, no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from immutables import Map

from actors.domain.error_text import normalised_error
from cellmon.contract import CellExecuted, occurred_at
from cellmon.limits import DEFAULT_LIMITS, Limits
from cellmon.views import Status


@dataclass(frozen=True, slots=True)
class Rules:
    """The existing system's status rules, with its defaults."""

    significant_errors: int = 3
    error_window: timedelta = timedelta(minutes=5)
    active_window: timedelta = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class CellProgress:
    """One student's history with one cell."""

    notebook_path: str | None
    cell_id: str
    cell_index: int | None = None
    attempts: int = 0
    errors: int = 0
    last_status: str | None = None
    first_success_at: datetime | None = None
    last_run_at: datetime | None = None
    # While the latest run failed: its error, for grouping the class by mistake, and its code.
    error_name: str | None = None
    error_message: str | None = None
    failing_code: str | None = None


@dataclass(frozen=True, slots=True)
class StudentState:
    """Everything the instructor needs to know about one student, as of the events applied."""

    student_id: str
    name: str | None = None
    team: str | None = None
    executions: int = 0
    errors: int = 0
    consecutive_errors: int = 0
    last_activity_at: datetime | None = None
    last_seen_at: datetime | None = None
    last_error_at: datetime | None = None
    help_since: datetime | None = None
    current_notebook: str | None = None
    current_cell_id: str | None = None
    current_cell_index: int | None = None
    # Persistent maps: a run updates one cell in O(log n) without copying the others, so the
    # 10,000th cell costs what the 10th does (BENCHMARKS.md).
    cells: Map[str, CellProgress] = field(default_factory=Map)
    cells_completed: int = 0
    notebooks: Map[str, None] = field(default_factory=Map)
    last_code: str | None = None
    last_error: str | None = None
    help_claimed_by: str | None = None
    help_claimed_at: datetime | None = None
    help_history: tuple[HelpEpisode, ...] = ()
    recent_runs: tuple[RunRecord, ...] = ()
    # The roster, which the instructor controls: its name and team win over the student's.
    enrolled: bool = False
    roster_name: str | None = None
    roster_team: str | None = None
    # Whether the newest event came with the student's own token (None: no event yet).
    verified: bool | None = None
    # The instructor who last cleared the student's error streak ("Resolve error"), and when.
    errors_resolved_by: str | None = None
    errors_resolved_at: datetime | None = None
    # Their answer to the classroom's research consent question (None: not answered).
    research_consent: bool | None = None

    @property
    def display_name(self) -> str | None:
        """The roster's name, else the one the student's Jupyter suggested."""
        return self.roster_name or self.name

    @property
    def display_team(self) -> str | None:
        """The roster's team, else the student's own."""
        return self.roster_team or self.team


_STATE_FIELDS = tuple(f.name for f in fields(StudentState))
_UNCHANGED = object()


def evolve(student: StudentState, **changes: Any) -> StudentState:
    """`dataclasses.replace(student, **changes)` at about half the cost: every event makes one,
    and `replace` collects every field into keywords for a frozen `__init__` (8 us of a cell
    run's 29 here). A field set here is set as that `__init__` would set it; a name that is
    not a field raises TypeError, as with `replace`."""
    new = object.__new__(StudentState)
    for name in _STATE_FIELDS:
        value = changes.pop(name, _UNCHANGED)
        object.__setattr__(new, name, getattr(student, name) if value is _UNCHANGED else value)
    if changes:
        raise TypeError(f"StudentState has no field {', '.join(changes)}")
    return new


@dataclass(frozen=True, slots=True)
class HelpEpisode:
    """One help request from raise to end; `resolved_by` is None when the student withdrew."""

    raised_at: datetime
    ended_at: datetime
    claimed_at: datetime | None = None
    claimed_by: str | None = None
    resolved_by: str | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One cell run, for the student's timeline."""

    time: datetime
    cell_index: int | None
    status: str
    error_name: str | None = None


# Effects: what the actor must tell the outside world after a transition.
@dataclass(frozen=True, slots=True)
class HelpRaised:
    student_id: str
    since: datetime


@dataclass(frozen=True, slots=True)
class HelpClaimed:
    student_id: str
    by: str
    waited: timedelta


@dataclass(frozen=True, slots=True)
class HelpWithdrawn:
    """The request ended: withdrawn by the student (`by` None) or resolved by an instructor."""

    student_id: str
    waited: timedelta
    at: datetime
    by: str | None = None


@dataclass(frozen=True, slots=True)
class Escalated:
    """The student just reached the significant-error threshold."""

    student_id: str
    consecutive_errors: int


Effect = HelpRaised | HelpClaimed | HelpWithdrawn | Escalated


@dataclass(frozen=True, slots=True)
class CellChange:
    """A cell's progress before and after a run, for the classroom's per-cell statistics."""

    key: str
    before: CellProgress | None
    after: CellProgress


def cell_id_of(event: CellExecuted) -> str:
    """The cell's id, or its position when the client sent no id (the existing extension)."""
    return event.cell_id if event.cell_id is not None else f"#{event.cell_index}"


def is_failing(cell: CellProgress | None) -> bool:
    """The student's latest run of the cell raised an error: counted per cell and grouped by
    error from this one rule, so the heat map and the error groups agree."""
    return cell is not None and cell.last_status == "error"


def cell_key(notebook_path: str | None, cell_id: str) -> str:
    """Cells are identified per notebook: the same id in two notebooks is two cells."""
    return f"{notebook_path or ''}::{cell_id}"


def status_of(student: StudentState, now: datetime, rules: Rules) -> Status:
    """Priority: help > significant_error > error (recent) > active (recent) > idle."""
    if student.help_since is not None:
        return "help"
    if student.consecutive_errors >= rules.significant_errors:
        return "significant_error"
    if student.last_error_at is not None and now - student.last_error_at <= rules.error_window:
        return "error"
    if (
        student.last_activity_at is not None
        and now - student.last_activity_at <= rules.active_window
    ):
        return "active"
    return "idle"


def apply_event(
    student: StudentState, event: Any, rules: Rules, limits: Limits = DEFAULT_LIMITS
) -> tuple[StudentState, list[Effect], CellChange | None]:
    """One event applied to one student: the new state, its effects, and any cell change."""
    at = occurred_at(event)
    kind = event.type
    if kind == "help_claimed":  # instructor actions: not the student's activity
        return _help_claimed(student, event.instructor, at)
    if kind == "help_resolved":
        return _help_ended(student, at, event.instructor, limits)
    if kind == "errors_resolved":
        cleared = {"errors_resolved_by": event.instructor, "errors_resolved_at": at}
        return evolve(student, consecutive_errors=0, **cleared), [], None
    if kind == "roster_updated":
        roster = {"roster_name": event.roster_name, "roster_team": event.roster_team}
        return evolve(student, enrolled=event.enrolled, **roster), [], None
    seen = _identity(student, event, at)
    if kind == "consent":  # an answer, not work: presence only
        return evolve(student, research_consent=event.research, **seen), [], None
    if kind == "cell_executed":
        return _cell_executed(student, event, at, rules, limits, seen)
    if kind == "heartbeat":
        return evolve(student, **seen), [], None
    student = evolve(student, last_activity_at=_later(student.last_activity_at, at), **seen)
    if kind == "help":
        return _help(student, event.received_at or at)
    if kind == "help_stop":
        return _help_ended(student, at, None, limits)
    if kind == "notebook_opened":
        return evolve(student, current_notebook=event.notebook_path), [], None
    if kind == "notebook_closed" and student.current_notebook == event.notebook_path:
        return (
            evolve(student, current_notebook=None, current_cell_id=None, current_cell_index=None),
            [],
            None,
        )
    return student, [], None


def _identity(student: StudentState, event: Any, at: datetime) -> dict[str, Any]:
    """Name, team, presence and notebooks follow the newest event that carries them (as
    changes, so a transition makes one copy of the state, not one per concern: this is the hot
    path)."""
    seen = {
        "name": event.student_name or student.name,
        "team": event.team or student.team,
        "last_seen_at": _later(student.last_seen_at, at),
        "verified": event.verified,
    }
    path = event.notebook_path
    if path is not None and path not in student.notebooks:
        seen["notebooks"] = student.notebooks.set(path, None)
    return seen


def _help(student: StudentState, at: datetime) -> tuple[StudentState, list[Effect], None]:
    """`at` is the server's receipt: the queue is in the order hands reached the server, so a
    client clock cannot move anyone ahead. The existing extension re-sends `help` every 10 s
    while the button is on: keep the first time."""
    if student.help_since is not None:
        return student, [], None
    return evolve(student, help_since=at), [HelpRaised(student.student_id, at)], None


def _help_claimed(
    student: StudentState, instructor: str, at: datetime
) -> tuple[StudentState, list[Effect], None]:
    if student.help_since is None or student.help_claimed_by is not None:
        return student, [], None
    waited = max(at - student.help_since, timedelta(0))
    claimed = evolve(student, help_claimed_by=instructor, help_claimed_at=at)
    return claimed, [HelpClaimed(student.student_id, instructor, waited)], None


def _help_ended(
    student: StudentState, at: datetime, by: str | None, limits: Limits
) -> tuple[StudentState, list[Effect], None]:
    """Withdrawn by the student (`by` None) or resolved by an instructor."""
    if student.help_since is None:
        return student, [], None
    waited = max(at - student.help_since, timedelta(0))
    episode = HelpEpisode(
        student.help_since, at, student.help_claimed_at, student.help_claimed_by, by
    )
    ended = evolve(
        student,
        help_since=None,
        help_claimed_by=None,
        help_claimed_at=None,
        help_history=(*student.help_history, episode)[-limits.help_history :],
    )
    return ended, [HelpWithdrawn(student.student_id, waited, at, by)], None


def _cell_executed(
    student: StudentState,
    event: CellExecuted,
    at: datetime,
    rules: Rules,
    limits: Limits,
    seen: dict[str, Any],
) -> tuple[StudentState, list[Effect], CellChange | None]:
    cell_id = cell_id_of(event)
    key = cell_key(event.notebook_path, cell_id)
    before = student.cells.get(key)
    code = event.code[: limits.kept_code_chars] if event.code else None
    after = _cell_after(before, event, cell_id, at, code)
    status = event.status
    completed = after.first_success_at is not None and (
        before is None or before.first_success_at is None
    )
    changes: dict[str, Any] = {
        **seen,
        "last_activity_at": _later(student.last_activity_at, at),
        "current_notebook": event.notebook_path or student.current_notebook,
        "current_cell_id": cell_id,
        "current_cell_index": after.cell_index,
        "cells": student.cells.set(key, after),
        "cells_completed": student.cells_completed + completed,
        "recent_runs": (
            *student.recent_runs,
            RunRecord(at, after.cell_index, status, event.error_name),
        )[-limits.timeline :],
        "last_code": code or student.last_code,
    }
    effects: list[Effect] = []
    if status == "ok":
        changes.update(executions=student.executions + 1, consecutive_errors=0)
    elif status == "error":
        streak = student.consecutive_errors + 1
        changes.update(
            executions=student.executions + 1,
            errors=student.errors + 1,
            consecutive_errors=streak,
            last_error_at=_later(student.last_error_at, at),
            last_error=_error_text(event, limits),
        )
        if streak == rules.significant_errors:
            effects.append(Escalated(student.student_id, streak))
    # "aborted": it never ran (an earlier cell failed), so no counter moves.
    return evolve(student, **changes), effects, CellChange(key, before, after)


def _cell_after(
    before: CellProgress | None,
    event: CellExecuted,
    cell_id: str,
    at: datetime,
    code: str | None,
) -> CellProgress:
    status = event.status
    if before is None:
        before = CellProgress(event.notebook_path, cell_id)
    failed = status == "error"
    return CellProgress(
        before.notebook_path,
        before.cell_id,
        event.cell_index if event.cell_index is not None else before.cell_index,
        before.attempts + (status != "aborted"),
        before.errors + (status == "error"),
        status,
        before.first_success_at or (at if status == "ok" else None),
        _later(before.last_run_at, at),
        event.error_name if failed else None,
        normalised_error(event.error_value) if failed else None,
        (code or before.failing_code) if failed else None,
    )


def _error_text(event: CellExecuted, limits: Limits) -> str:
    text = ": ".join(part for part in (event.error_name, event.error_value) if part)
    return (text or "error")[: limits.kept_error_chars]


def _later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current
