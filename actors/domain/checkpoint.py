"""A classroom's state to and from a JSON-able checkpoint. Pure: no I/O."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from immutables import Map

from actors.domain import cell_stats
from actors.domain.classroom import ClassroomActor
from actors.domain.messages import Message
from actors.domain.state import (
    CellChange,
    CellProgress,
    HelpEpisode,
    Rules,
    RunRecord,
    StudentState,
)
from actors.domain.student import StudentActor
from cellmon.limits import DEFAULT_LIMITS, Limits

VERSION = 6  # 2: notebooks, completed cells; 3: roster; 4: cell errors; 5: messages; 6: consent


class OutdatedCheckpoint(ValueError):
    """Written by another version: the classroom is rebuilt from its whole log instead."""


# A student's state as last dumped, and its row: states are immutable (every change makes a
# new one), so an unchanged student's row is the one already made.
DumpCache = dict[str, tuple[StudentState, dict[str, Any]]]


def dump(classroom: ClassroomActor, cache: DumpCache | None = None) -> dict[str, Any]:
    """Everything needed to rebuild the classroom without replaying its whole log. With
    `cache` (kept by the caller between dumps of this classroom), only students whose state
    changed since the last dump are converted again; the cache is updated in place."""
    return {
        "version": VERSION,
        "significant_errors": classroom.rules.significant_errors,
        "consent_required": classroom.consent_required,
        "events_applied": classroom.events_applied,
        "students": _student_rows(classroom, cache),
        "cells": {key: dataclasses.asdict(c) for key, c in classroom.cells.items()},
        "activity": classroom.activity.dump(),
        "messages": [m.as_dict() for m in classroom.mailbox.messages],
    }


def restore(
    classroom_id: str, data: dict[str, Any], limits: Limits = DEFAULT_LIMITS
) -> ClassroomActor:
    """The classroom a checkpoint describes."""
    if data.get("version") != VERSION:
        raise OutdatedCheckpoint(f"checkpoint version {data.get('version')} is not {VERSION}")
    rules = Rules(significant_errors=data["significant_errors"])
    classroom = ClassroomActor(classroom_id, rules, limits=limits)
    classroom.events_applied = data["events_applied"]
    classroom.consent_required = data["consent_required"]
    for row in data["students"]:
        actor = StudentActor(row["student_id"])
        actor.state = _student(row)
        classroom.students[actor.state.student_id] = actor
    classroom.cells = {k: cell_stats.CellStats(**v) for k, v in data["cells"].items()}
    for actor in classroom.students.values():  # derived: rebuilt, never stored
        for key, cell in actor.state.cells.items():
            classroom.failing.track(actor.state.student_id, CellChange(key, None, cell))
    classroom.activity.load(data["activity"])
    for row in data["messages"]:
        classroom.mailbox.add(Message.from_dict(row))
    return classroom


def _student_rows(classroom: ClassroomActor, cache: DumpCache | None) -> list[dict[str, Any]]:
    if cache is None:
        return [_plain(s.state) for s in classroom.students.values()]
    rows, kept = [], {}
    for student_id, actor in classroom.students.items():
        hit = cache.get(student_id)
        row = hit[1] if hit is not None and hit[0] is actor.state else _plain(actor.state, hit)
        kept[student_id] = (actor.state, row)
        rows.append(row)
    cache.clear()  # students gone (forgotten, purged) leave it
    cache.update(kept)
    return rows


_NESTED = ("cells", "notebooks", "help_history", "recent_runs")
_NOTHING_BEFORE: tuple[StudentState, dict[str, Any]] = (StudentState(""), {})  # shares nothing


def _plain(
    state: StudentState, before: tuple[StudentState, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The student's row. With `before` (an earlier state and its row), the cells and runs the
    two states share are not converted again: a run changes one cell and adds one run, and
    converting all of a student's cells and runs was most of a busy shard's checkpoint."""
    row = {f.name: _to_json(getattr(state, f.name)) for f in dataclasses.fields(state)}
    old_state, old_row = before if before is not None else _NOTHING_BEFORE
    old_cells, old_cell_rows = old_state.cells, old_row.get("cells", {})
    row["cells"] = {
        k: old_cell_rows[k] if old_cells.get(k) is c else _flat(c) for k, c in state.cells.items()
    }
    row["notebooks"] = list(state.notebooks)
    row["help_history"] = [_flat(e) for e in state.help_history]
    # The same run object in both states is the same run (its id is unique while `before`
    # holds it).
    old_run_rows = old_row.get("recent_runs", [])
    by_id = dict(zip(map(id, old_state.recent_runs), old_run_rows, strict=True))
    row["recent_runs"] = [by_id.get(id(r)) or _flat(r) for r in state.recent_runs]
    return row


def _student(row: dict[str, Any]) -> StudentState:
    values = {k: _from_json(StudentState, k, v) for k, v in row.items() if k not in _NESTED}
    return StudentState(
        **values,
        cells=Map({k: _build(CellProgress, c) for k, c in row["cells"].items()}),
        notebooks=Map(dict.fromkeys(row["notebooks"])),
        help_history=tuple(_build(HelpEpisode, e) for e in row.get("help_history", [])),
        recent_runs=tuple(_build(RunRecord, r) for r in row.get("recent_runs", [])),
    )


def _flat(value: Any) -> dict[str, Any]:
    return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}


def _build(kind: Any, row: dict[str, Any]) -> Any:
    return kind(**{name: _from_json(kind, name, value) for name, value in row.items()})


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _from_json(kind: type, name: str, value: Any) -> Any:
    """Datetime fields come back from their ISO text; everything else is already JSON."""
    if value is not None and "datetime" in str(_FIELD_TYPES[kind][name]):
        return datetime.fromisoformat(value)
    return value


_FIELD_TYPES: dict[type, dict[str, Any]] = {
    kind: {f.name: f.type for f in dataclasses.fields(kind)}
    for kind in (StudentState, CellProgress, HelpEpisode, RunRecord)
}
