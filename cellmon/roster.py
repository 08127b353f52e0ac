"""A roster file: the students of a class, with the names and teams the class sees. Pure."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

ROSTER_COLUMNS = ("student_id", "name", "team")


@dataclass(frozen=True)
class RosterRow:
    """One student of a roster file."""

    student_id: str
    name: str | None = None
    team: str | None = None


def read_roster(text: str) -> tuple[list[RosterRow], list[str]]:
    """Rows of a roster CSV (header student_id,name,team; name and team optional), and one
    message per bad line; a student listed twice is a bad line."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "student_id" not in reader.fieldnames:
        return [], ["the first line must name the columns: student_id,name,team"]
    rows, problems, seen = [], [], set()
    for line, record in enumerate(reader, start=2):
        sid = (record.get("student_id") or "").strip()
        if not sid or len(sid) > 128:
            problems.append(f"line {line}: student_id must be 1 to 128 characters")
        elif sid in seen:
            problems.append(f"line {line}: {sid!r} is listed twice")
        else:
            seen.add(sid)
            name, team = (record.get("name") or "").strip(), (record.get("team") or "").strip()
            rows.append(RosterRow(sid, name[:200] or None, team[:100] or None))
    return rows, problems
