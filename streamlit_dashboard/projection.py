"""Projector mode: the overview as the whole room may see it. Pure, no Streamlit.

Names (and ids, which are often usernames) become stable pseudonyms such as "Student 4F2A",
so a teacher can still say "4F2A, I'm coming"; code is hidden, since it is a student's own
work. Teams, statuses, counts and error messages stay: they are what the room is shown for.
The pseudonym is a keyed hash of classroom and student: the same all lesson, different per
classroom, and not reversible from the ids without the key (CELLMON_PSEUDONYM_KEY).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, cast

from cellmon.views import ClassroomSnapshot, StudentDetail


def pseudonym(classroom_id: str, student_id: str, key: bytes = b"") -> str:
    """`Student 4F2A`: four hex digits, so a 1,000-student class rarely shares one."""
    digest = hashlib.blake2b(f"{classroom_id}\0{student_id}".encode(), key=key[:64], digest_size=2)
    return f"Student {digest.hexdigest().upper()}"


def snapshot(snap: ClassroomSnapshot, key: bytes = b"") -> ClassroomSnapshot:
    """The snapshot with pseudonyms for names and no code."""
    cid = snap["classroom_id"]
    projected = {
        **snap,
        "students": [_named(cid, row, key) for row in snap["students"]],
        "help_queue": [_named(cid, row, key) for row in snap["help_queue"]],
        "error_groups": [
            {**cell, "groups": [{**group, "code": None} for group in cell["groups"]]}
            for cell in snap.get("error_groups") or []
        ],
    }
    return cast(ClassroomSnapshot, projected)


def student(detail: StudentDetail, classroom_id: str, key: bytes = b"") -> StudentDetail:
    """One student's detail with a pseudonym and neither code nor error text."""
    projected = {**_named(classroom_id, detail, key), "last_code": None, "last_error": None}
    return cast(StudentDetail, projected)


def alerts(
    items: list[dict[str, Any]], classroom_id: str, key: bytes = b""
) -> list[dict[str, Any]]:
    """Help alerts as toasts show them: with pseudonyms."""
    return [_named(classroom_id, alert, key) for alert in items]


def _named(classroom_id: str, row: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    if "student_id" not in row:
        return dict(row)
    return {**row, "name": pseudonym(classroom_id, str(row["student_id"]), key)}
