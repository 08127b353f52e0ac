"""Class metrics as InfluxDB line protocol (ms timestamps): pure functions, no I/O, no clock.

Tags are bounded (classroom, status, error name, help kind); student ids are fields, never tags.
Lines are written by `_line`, which escapes exactly as influxdb_client's `Point` does (a unit
test compares the two) at a fraction of its cost: a shard writes one line per cell run.
Known quirks of InfluxDB 1.x's tag parsing: a tag value
ending in a backslash comes back ending in a space instead, and newlines/tabs in tag values are
stored as the two characters `\\n` / `\\t`.
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime, timedelta
from typing import Literal

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
    # `_line` with this point's keys written in their sorted order: a shard writes one of these
    # per cell run, and the general form (sorting, generators, type dispatch) cost twice as much.
    # A unit test holds the two equal.
    tags = f",classroom={_tag_value(event.classroom_id)}" if event.classroom_id else ""
    if event.error_name:
        tags += f",error_name={_tag_value(event.error_name)}"
    tags += f",status={_tag_value(event.status)}"
    index, duration = event.cell_index, event.duration_ms
    fields = "count=1i" if index is None else f"cell_index={index}i,count=1i"
    if duration is not None and math.isfinite(duration):
        fields += f",duration_ms={_field_value(float(duration))}"
    fields += f",student={_field_value(event.student_id)}"
    ns = _ns(epoch_ms(occurred_at(event)), uniquifier)
    return f"{CELL_EXECUTION}{tags} {fields} {ns}"


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


_ESCAPE_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_ESCAPE_KEY = str.maketrans(
    {",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"}
)
_ESCAPE_STRING = str.maketrans({'"': r"\"", "\\": r"\\"})


def _line(
    measurement: str, tags: dict[str, str | None], fields: dict[str, FieldValue], ns: int
) -> str:
    """One line, as `Point` writes it: sorted keys, None/empty tags and None fields left out,
    integers with an `i`, floats without a trailing `.0`, the int time as is."""
    tag_part = "".join(
        f",{_key(key)}={_tag_value(value)}"
        for key, value in sorted(tags.items())
        if value is not None and value != "" and key
    )
    field_part = ",".join(
        f"{_key(key)}={_field_value(value)}"
        for key, value in sorted(fields.items())
        if value is not None and not (isinstance(value, float) and not math.isfinite(value))
    )
    return f"{_measurement(measurement)}{tag_part} {field_part} {ns}"


@functools.cache  # keys and measurements are a handful of constants
def _key(key: str) -> str:
    return key.translate(_ESCAPE_KEY)


@functools.cache
def _measurement(name: str) -> str:
    return name.translate(_ESCAPE_MEASUREMENT)


def _tag_value(value: str) -> str:
    escaped = str(value).translate(_ESCAPE_KEY)
    return escaped + " " if escaped.endswith("\\") else escaped


def _field_value(value: str | int | float) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        text = str(value)
        return text[:-2] if text.endswith(".0") else text
    return '"' + str(value).translate(_ESCAPE_STRING) + '"'
