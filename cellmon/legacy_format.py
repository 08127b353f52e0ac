"""Map the existing system's camelCase events onto contract v1, so its extensions work unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# Their event type -> ours. Types that only their instructor side used have no mapping.
SEED_TYPES: dict[str, str] = {
    "cell_executed": "cell_executed",
    "notebook_opened": "notebook_opened",
    "notebook_saved": "notebook_saved",
    "notebook_save": "notebook_saved",
    "notebook_closed": "notebook_closed",
    "help": "help",
    "help_stop": "help_stop",
    "student_session_start": "heartbeat",
    "progress_update": "heartbeat",
}

_FIELDS: dict[str, str] = {
    "eventId": "event_id",
    "eventTime": "time",
    "userName": "student_name",
    "teamName": "team",
    "sessionId": "session_id",
    "notebookPath": "notebook_path",
    "cellId": "cell_id",
    "cellIndex": "cell_index",
    "cellType": "cell_type",
    "code": "code",
    "executionCount": "execution_count",
    "executionDurationMs": "duration_ms",
}


class SeedFormatError(ValueError):
    """The item looks like a seed event but cannot be mapped."""


def is_seed_event(item: dict[str, Any]) -> bool:
    """True when the item uses the existing system's camelCase field names."""
    return "eventType" in item or "eventId" in item


def from_seed(item: dict[str, Any]) -> dict[str, Any]:
    """Translate one camelCase event into a v1 dict (not yet validated)."""
    seed_type = item.get("eventType")
    if not isinstance(seed_type, str) or seed_type not in SEED_TYPES:  # a list is unhashable
        known = ", ".join(sorted(SEED_TYPES))
        raise SeedFormatError(f"unknown eventType {seed_type!r}; expected one of: {known}")
    out: dict[str, Any] = {"type": SEED_TYPES[seed_type]}
    for theirs, ours in _FIELDS.items():
        if item.get(theirs) is not None:
            out[ours] = item[theirs]
    if isinstance(out.get("time"), str):
        out["time"] = _utc_if_naive(out["time"])
    student = item.get("emailAddress") or item.get("userId")
    if student is not None:
        out["student_id"] = student
    if out["type"] != "cell_executed":
        for cell_field in ("cell_id", "cell_index", "cell_type", "code", "execution_count"):
            out.pop(cell_field, None)
        out.pop("duration_ms", None)
        return out
    out["status"] = "error" if item.get("hasError") else "ok"
    if item.get("hasError"):
        name, value = split_error_message(item.get("errorMessage"))
        out["error_name"], out["error_value"] = name, value
    return out


def split_error_message(message: Any) -> tuple[str | None, str | None]:
    """Split their "ename: evalue" string; a message without a colon is all value."""
    if not isinstance(message, str) or not message:
        return None, None
    name, sep, value = message.partition(": ")
    if sep and name.isidentifier():
        return name, value
    return None, message


def _utc_if_naive(value: str) -> str | datetime:
    """Their extension sends `toISOString()` (UTC); read an offset-less time as UTC too."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value  # let the model report the bad time
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
