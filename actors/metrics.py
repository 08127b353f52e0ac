"""Class metrics as InfluxDB line protocol (ms timestamps): pure functions, no I/O, no clock.

Tags are bounded (classroom, status, error name, help kind); student ids are fields, never tags.
Escaping is influxdb_client's `Point`. Known quirks of InfluxDB 1.x's tag parsing: a tag value
ending in a backslash comes back ending in a space instead, and newlines/tabs in tag values are
stored as the two characters `\\n` / `\\t`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from influxdb_client.client.write.point import Point

from cellmon.contract import CellExecuted, Event, occurred_at

CELL_EXECUTION = "cell_execution"
HELP = "help"
CLASSROOM_ACTIVITY = "classroom_activity"

HelpKind = Literal["raised", "withdrawn"]
FieldValue = str | int | float | None  # None: the field is left out

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_MINUTE_MS = 60_000


def epoch_ms(at: datetime) -> int:
    """Whole milliseconds since the Unix epoch (exact; a naive datetime is taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at - _EPOCH) // _MS


def cell_point(event: Event, uniquifier: int = 0) -> str | None:
    """The `cell_execution` line for a cell run; None for any other event.

    InfluxDB keeps one point per measurement, tag set and timestamp, so two runs with the same
    tags in the same millisecond would overwrite each other: `uniquifier` (the event's log
    position) fills the nanoseconds, and re-writing the same event overwrites its own point.
    """
    if not isinstance(event, CellExecuted):
        return None
    return _line(
        CELL_EXECUTION,
        {"classroom": event.classroom_id, "status": event.status, "error_name": event.error_name},
        {
            "student": event.student_id,
            "count": 1,
            "duration_ms": None if event.duration_ms is None else float(event.duration_ms),
            "cell_index": event.cell_index,
        },
        _ns(epoch_ms(occurred_at(event)), uniquifier),
    )


def help_point(
    classroom_id: str,
    student_id: str,
    kind: HelpKind,
    at: datetime,
    waited_s: float | None = None,
    uniquifier: int = 0,
) -> str:
    """The `help` line for a raised or withdrawn hand (`waited_s` is kept only when withdrawn)."""
    if kind not in ("raised", "withdrawn"):
        raise ValueError(f"help kind must be 'raised' or 'withdrawn', not {kind!r}")
    waited = float(waited_s) if kind == "withdrawn" and waited_s is not None else None
    return _line(
        HELP,
        {"classroom": classroom_id, "kind": kind},
        {"student": student_id, "waited_s": waited},
        _ns(epoch_ms(at), uniquifier),
    )


def activity_point(
    classroom_id: str,
    minute: datetime,
    executions: int,
    errors: int,
    help: int,
    active_students: int,
) -> str:
    """The `classroom_activity` line for one minute; the time is floored to the minute.

    Writing the same classroom and minute again overwrites the point, so a minute still in
    progress can be re-written as it fills up.
    """
    ms = epoch_ms(minute)
    return _line(
        CLASSROOM_ACTIVITY,
        {"classroom": classroom_id},
        {
            "executions": int(executions),
            "errors": int(errors),
            "help": int(help),
            "active_students": int(active_students),
        },
        _ns(ms - ms % _MINUTE_MS, 0),
    )


def _ns(ms: int, uniquifier: int) -> int:
    """Nanosecond timestamp: the millisecond, plus a uniquifier below one millisecond."""
    return ms * 1_000_000 + uniquifier % 1_000_000


def _line(
    measurement: str, tags: dict[str, str | None], fields: dict[str, FieldValue], ns: int
) -> str:
    """One line; `Point` drops None/empty tags and None fields, and writes an int time as is."""
    point = Point.from_dict(
        {"measurement": measurement, "tags": tags, "fields": fields, "time": ns}
    )
    return str(point.to_line_protocol())
