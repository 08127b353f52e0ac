"""Per-item validation of an event batch: good items pass, each bad one is named with a reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from cellmon.contract import EVENT_TYPES, Event
from cellmon.seed_format import SeedFormatError, from_seed, is_seed_event

_EVENT = TypeAdapter(Event)

RejectionKind = Literal["invalid", "forbidden"]


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may carry."""

    max_batch: int = 500
    max_code_chars: int = 64_000
    max_error_chars: int = 2_000


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
    """The events to accept and the items rejected, in input order."""

    events: list[Any] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def parse_batch(
    items: list[Any], *, classroom_id: str, received_at: datetime, limits: Limits = Limits()
) -> ParsedBatch:
    """Validate each item for the token's classroom; never lets one bad item drop another."""
    out = ParsedBatch()
    for index, item in enumerate(items):
        try:
            out.events.append(parse_item(item, classroom_id, received_at, limits))
        except _Rejected as rejected:
            out.rejected.append(
                Rejection(index, rejected.reason, rejected.kind, _event_id_of(item))
            )
    return out


class _Rejected(Exception):
    def __init__(self, reason: str, kind: RejectionKind = "invalid") -> None:
        super().__init__(reason)
        self.reason, self.kind = reason, kind


def parse_item(item: Any, classroom_id: str, received_at: datetime, limits: Limits) -> Any:
    """One raw item -> a validated contract event, or `_Rejected` with a readable reason."""
    if not isinstance(item, dict):
        raise _Rejected(f"item must be a JSON object, got {_json_type(item)}")
    data = _to_v1(item)
    claimed = data["classroom_id"] = data.get("classroom_id") or classroom_id
    if claimed != classroom_id:
        raise _Rejected(
            f"event is for classroom {claimed!r} but the token is for {classroom_id!r}",
            "forbidden",
        )
    _bound_text(data, limits)
    data["received_at"] = received_at
    try:
        return _EVENT.validate_python(data)
    except ValidationError as error:
        raise _Rejected(describe(error)) from None


def _to_v1(item: dict[str, Any]) -> dict[str, Any]:
    if is_seed_event(item):
        try:
            return from_seed(item)
        except SeedFormatError as error:
            raise _Rejected(str(error)) from None
    data = dict(item)
    kind = data.get("type")
    if kind is None:
        raise _Rejected("missing field 'type'")
    if kind not in EVENT_TYPES:
        raise _Rejected(f"unknown event type {kind!r}; expected one of: {', '.join(EVENT_TYPES)}")
    return data


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


def describe(error: ValidationError) -> str:
    """A pydantic error as one line a client developer can act on."""
    parts = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(p) for p in problem["loc"][1:] or problem["loc"]) or "event"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)


def _event_id_of(item: Any) -> str | None:
    if isinstance(item, dict):
        value = item.get("event_id", item.get("eventId"))
        return value if isinstance(value, str) else None
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
