"""What a researcher sees of a classroom: keyed pseudonyms in place of student ids, and nothing
that names a person.

A pseudonym is HMAC-SHA256 of the student id under the study's key: one student is the same
pseudonym in every read and classroom of a study (so a term can be followed), a different one
in another study, and without the key nobody can go back from a pseudonym to an id, or test a
guessed id. Names, teams (often names), instructors' emails and messages, and code are left out.

Consent: while a classroom asks for research consent, a student is in research reads only once
they agreed; when it does not ask, everyone is, but a student who said no is never. A withdrawal
takes effect on everything already logged, not only on what follows. In a live view the
per-student tables (students, help, error groups) and the summary hold only those students;
the per-cell and per-minute tables are class-wide counts that name nobody.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from actors.domain.classroom import summary_of
from cellmon.views import ClassroomSnapshot

PREFIX = "p-"
# The student_id of a classroom's own events (its settings, a message to everyone): no
# student, so no pseudonym, and no consent to ask.
CLASS_WIDE = frozenset({"-", "*"})
DIGITS = 20  # 80 bits of the digest: no two students of any study meet by chance


def pseudonym(key: bytes, student_id: str) -> str:
    """The student's pseudonym in the study whose key this is."""
    # surrogatepass: an id is stored as the student's Jupyter sent it, lone surrogates and all.
    message = student_id.encode("utf-8", "surrogatepass")
    return PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()[:DIGITS]


_STUDENT_COLUMNS = (
    "status",
    "enrolled",
    "verified",
    "executions",
    "errors",
    "consecutive_errors",
    "last_activity_at",
    "last_seen_at",
    "help_since",
    "current_notebook",
    "current_cell_index",
    "cells_completed",
)


# The research tables' columns, so an empty one (nobody consented yet) still has them.
STUDENT_COLUMNS = ("student", *_STUDENT_COLUMNS)
HELP_COLUMNS = ("student", "since", "waiting_s", "claimed", "claimed_at")
ERROR_COLUMNS = ("notebook_path", "cell_id", "cell_index", "error_name", "message", "students")


def in_research(consent_required: bool, answer: bool | None) -> bool:
    """Whether a student's data may be read for research: asked, only a yes; not asked,
    anything but a no."""
    return answer is True if consent_required else answer is not False


def readable(student_id: str, consent_required: bool, answer: bool | None) -> bool:
    """Whether research may read an event of this student_id (the classroom's own: always)."""
    return student_id in CLASS_WIDE or in_research(consent_required, answer)


def live_view(snapshot: ClassroomSnapshot, key: bytes) -> dict[str, Any]:
    """The snapshot as research tables (lists of rows), under the study's pseudonyms, holding
    only the students research may read."""
    asked = snapshot.get("consent_required", False)
    rows = [r for r in snapshot["students"] if in_research(asked, r.get("research_consent"))]
    readable = {row["student_id"] for row in rows}

    def alias(student_id: str) -> str:
        return pseudonym(key, student_id)

    return {
        "classroom_id": snapshot["classroom_id"],
        "generated_at": snapshot["generated_at"],
        "summary": dict(summary_of(rows)),
        "students": [
            {"student": alias(row["student_id"]), **{c: dict(row)[c] for c in _STUDENT_COLUMNS}}
            for row in rows
        ],
        "cells": [dict(row) for row in snapshot["cells"]],
        "help": [
            {
                "student": alias(entry["student_id"]),
                "since": entry["since"],
                "waiting_s": entry["waiting_s"],
                "claimed": entry["claimed_by"] is not None,  # by whom names an instructor
                "claimed_at": entry["claimed_at"],
            }
            for entry in snapshot["help_queue"]
            if entry["student_id"] in readable
        ],
        "errors": [
            {
                "notebook_path": cell["notebook_path"],
                "cell_id": cell["cell_id"],
                "cell_index": cell["cell_index"],
                "error_name": group["error_name"],
                "message": group["message"],
                "students": sorted(alias(s) for s in group["students"] if s in readable),
            }
            for cell in snapshot["error_groups"]
            for group in cell["groups"]
            if readable.intersection(group["students"])
        ],
        "activity": [dict(row) for row in snapshot["activity"]],
    }


# The event log's columns a researcher reads, each from the event's payload; code, names,
# teams and free text stay out.
EVENT_FIELDS = (
    "notebook_path",
    "cell_id",
    "cell_index",
    "status",
    "error_name",
    "duration_ms",
)


def event_row(key: bytes, row: dict[str, Any]) -> dict[str, Any]:
    """One logged event (seq, classroom_id, student_id, type, time, received_at, payload as a
    dict) as a research row; `student` is None for the classroom's own events."""
    payload = row["payload"]
    return {
        "seq": row["seq"],
        "classroom_id": row["classroom_id"],
        "student": None if row["student_id"] in CLASS_WIDE else pseudonym(key, row["student_id"]),
        "type": row["type"],
        "time": row["time"],
        "received_at": row["received_at"],
        **{field: _scalar(payload.get(field)) for field in EVENT_FIELDS},
    }


def _scalar(value: Any) -> Any:
    """A payload value as one column holds it: text, number or None (never a nested shape)."""
    if value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool)):
        return value
    return str(value)


def metric_row(key: bytes, row: dict[str, Any]) -> dict[str, Any]:
    """One InfluxDB point (tags and fields) with its `student` field as the pseudonym."""
    student = row.get("student")
    return {**row, "student": None if student is None else pseudonym(key, str(student))}
