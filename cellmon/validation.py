"""Per-item validation of an event batch: good items pass, each bad one is named with a reason.

Ingest policy lives here, not in the contract models: the models also decode the event log on
replay, and an event logged under an older policy must still load.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from cellmon.contract import EVENT_TYPES, Event, urgent_batch
from cellmon.legacy_format import SeedFormatError, from_seed, is_seed_event
from cellmon.limits import DEFAULT_LIMITS, Limits

_EVENT = TypeAdapter(Event)

# "limit": a bound of the classroom or the student (`Limits`); the item itself was fine.
RejectionKind = Literal["invalid", "forbidden", "limit"]
# NUL, which PostgreSQL refuses in text and jsonb, and UTF-16 surrogates, which no UTF-8 store
# can hold (a lone one arrives when a client JSON-escapes a broken Python string).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In a JSON text, NUL and surrogates can only be \u escapes (raw control characters and
# surrogates are invalid): a body without one needs no cleaning at all.
_ESCAPED_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_ECHOED_ID_CHARS = 128  # a 70,000-character id is not echoed back whole


@dataclass(frozen=True)
class Rejection:
    """One bad item: where it was, its id if it had one, and why."""

    index: int
    reason: str
    kind: RejectionKind = "invalid"
    event_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the ingest's answer."""
        return {
            "index": self.index,
            "event_id": self.event_id,
            "kind": self.kind,
            "reason": self.reason,
        }


@dataclass
class ParsedBatch:
    """The events to accept (with their index in the request) and the items rejected."""

    events: list[Any] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Sender:
    """Who the token says is sending: a classroom, and one student for a student's own token
    (the server stamps that student on every event; a classroom-wide token cannot vouch)."""

    classroom_id: str
    student_id: str | None = None


def might_hold_unstorable(body: bytes) -> bool:
    """False when a JSON body surely has no NUL and no surrogate in any string."""
    return _ESCAPED_UNSTORABLE.search(body) is not None


def parse_batch(
    items: list[Any],
    *,
    sender: Sender,
    received_at: datetime,
    limits: Limits = DEFAULT_LIMITS,
    clean_text: bool = True,
) -> ParsedBatch:
    """Validate each item for the token's sender; never lets one bad item drop another.
    `clean_text=False` skips looking for NUL and surrogates (see `might_hold_unstorable`)."""
    out = ParsedBatch()
    window = Window(
        received_at, received_at - limits.max_event_age, received_at + limits.max_event_ahead
    )
    for index, item in enumerate(items):
        try:
            out.events.append(parse_item(item, sender, window, limits, clean_text))
            out.indices.append(index)
        except _Rejected as rejected:
            out.rejected.append(
                Rejection(index, rejected.reason, rejected.kind, _event_id_of(item))
            )
    return out


class _Rejected(Exception):
    def __init__(self, reason: str, kind: RejectionKind = "invalid") -> None:
        super().__init__(reason)
        self.reason, self.kind = reason, kind


@dataclass(frozen=True)
class Window:
    """When the batch arrived, and the times its events may carry."""

    received_at: datetime
    earliest: datetime
    latest: datetime


def holds_urgent(items: list[Any]) -> bool:
    """Whether raw items (before validation, either format) are an urgent batch: a raised or
    lowered hand in a small batch, never shed under load (`cellmon.contract.urgent_batch`)."""
    return urgent_batch(
        [
            item.get("type", item.get("eventType")) if isinstance(item, dict) else None
            for item in items
        ]
    )


def parse_item(
    item: Any, sender: Sender, window: Window, limits: Limits, clean_text: bool = True
) -> Any:
    """One raw item -> a validated contract event, or `_Rejected` with a readable reason."""
    if not isinstance(item, dict):
        raise _Rejected(f"item must be a JSON object, got {_json_type(item)}")
    data = _to_v1(item)
    if clean_text and _clean_texts(data):
        data["text_cleaned"] = True
    _stamp(data, "classroom", "classroom_id", sender.classroom_id)
    if sender.student_id is not None:
        _stamp(data, "student", "student_id", sender.student_id)
    _bound_text(data, limits)
    data["received_at"] = window.received_at
    data["verified"] = sender.student_id is not None
    try:
        event = _EVENT.validate_python(data)
    except ValidationError as error:
        raise _Rejected(describe(error)) from None
    _check_time(event.time, window, limits)
    _check_numbers(event, limits)
    return event


def _stamp(data: dict[str, Any], what: str, key: str, token_value: str) -> None:
    """The token's classroom (or student) on the event; an event naming another is forbidden."""
    claimed = data.get(key) or token_value
    if claimed != token_value:
        raise _Rejected(
            f"event is for {what} {clean(str(claimed))[:128]!r} but the token is for "
            f"{token_value!r}",
            "forbidden",
        )
    data[key] = token_value


def _to_v1(item: dict[str, Any]) -> dict[str, Any]:
    if is_seed_event(item):
        try:
            data = from_seed(item)
        except SeedFormatError as error:
            raise _Rejected(clean(str(error))) from None
    else:
        data = dict(item)
        kind = data.get("type")
        if kind is None:
            raise _Rejected("missing field 'type'")
        if not isinstance(kind, str) or kind not in EVENT_TYPES:
            raise _Rejected(
                f"unknown event type {clean(str(kind))[:64]!r}; "
                f"expected one of: {', '.join(EVENT_TYPES)}"
            )
    return data


def clean(text: str) -> str:
    """`text` with NUL removed and lone surrogates replaced by U+FFFD, so any store can hold it."""
    if not _UNSTORABLE.search(text):
        return text
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def _clean_texts(data: dict[str, Any]) -> bool:
    """Clean every string value in place; True when any changed (the event is flagged)."""
    changed = False
    for key, value in data.items():
        if isinstance(value, str) and _UNSTORABLE.search(value):
            data[key], changed = clean(value), True
    return changed


def _bound_text(data: dict[str, Any], limits: Limits) -> None:
    """Truncate oversized code (flagged) and error text instead of refusing the run."""
    code = data.get("code")
    if isinstance(code, str) and len(code) > limits.max_code_chars:
        data["code"] = code[: limits.max_code_chars]
        data["code_truncated"] = True
    for name, bound in (
        ("error_value", limits.max_error_chars),
        ("error_name", 200),
        ("message", 500),
    ):
        value = data.get(name)
        if isinstance(value, str) and len(value) > bound:
            data[name] = value[:bound]  # a long help message must not lose the help request


def _check_time(time: datetime, window: Window, limits: Limits) -> None:
    """The client's clock, within a window around receipt (aware datetimes compare safely even
    at year 1 or 9999, where converting them to UTC would overflow)."""
    if time < window.earliest:
        days = limits.max_event_age.days
        raise _Rejected(f"time: more than {days} days before the server received it")
    if time > window.latest:
        hours = limits.max_event_ahead.total_seconds() / 3600
        raise _Rejected(f"time: more than {hours:g} h after the server received it")


def _check_numbers(event: Any, limits: Limits) -> None:
    """Integers and durations a real kernel can produce, far inside what the stores hold."""
    bounds = (
        ("cell_index", limits.max_cell_index),
        ("execution_count", limits.max_execution_count),
        ("duration_ms", limits.max_duration_ms),
    )
    for name, bound in bounds:
        value = getattr(event, name, None)
        if value is not None and not (math.isfinite(value) and value <= bound):
            raise _Rejected(f"{name}: must be a number from 0 to {bound:,}")


def describe(error: ValidationError) -> str:
    """A pydantic error as one line a client developer can act on."""
    parts = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(p) for p in problem["loc"][1:] or problem["loc"]) or "event"
        parts.append(f"{clean(where)[:64]}: {problem['msg']}")
    return "; ".join(parts)


def _event_id_of(item: Any) -> str | None:
    if isinstance(item, dict):
        value = item.get("event_id", item.get("eventId"))
        return clean(value)[:_ECHOED_ID_CHARS] if isinstance(value, str) else None
    return None


def _json_type(value: Any) -> str:
    names = {
        list: "an array",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)
