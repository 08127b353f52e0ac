"""Build validated contract events with explicit times; no clock is ever read."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from cellmon.contract import Event
from cellmon.settings import Settings

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
NOTEBOOK = "lab1.ipynb"

_EVENT: TypeAdapter[Any] = TypeAdapter(Event)
_ids = itertools.count(1)


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    """A time relative to T0."""
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def event(
    type: str,
    *,
    time: datetime = T0,
    received_at: datetime | None = None,
    **fields: Any,
) -> Any:
    """A validated v1 event; `received_at` defaults to `time` (client and server clocks agree)."""
    data: dict[str, Any] = {
        "type": type,
        "event_id": f"ev-{next(_ids)}",
        "classroom_id": "c1",
        "student_id": "s1",
        "notebook_path": NOTEBOOK,
        "time": time,
        "received_at": time if received_at is None else received_at,
    }
    if type == "cell_executed":
        data.update(cell_id="cell-1", cell_index=0, status="ok")
    data.update(fields)
    return _EVENT.validate_python(data)


def cell(status: str = "ok", **fields: Any) -> Any:
    """Shorthand for a cell execution with the given status."""
    return event("cell_executed", status=status, **fields)


def unit_settings(**overrides: Any) -> Settings:
    """Settings whose stores are all in memory: nothing leaves the process."""
    base: dict[str, Any] = {
        "store_url": "memory://",
        "alerts_url": "memory://",
        "influx_url": None,
        "checkpoint_interval_s": 60,
        "idle_unload_s": 60,
        "rebalance_interval_s": 0,  # tests call `Directory.rebalance_once` themselves
    }
    return Settings(**{**base, **overrides})
