"""Event builders for the end-to-end tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def cell_run(student: str, status: str = "ok", cell: int = 0, **extra: Any) -> dict[str, Any]:
    """A v1 cell_executed event as a student's Jupyter would send it."""
    event = {
        "type": "cell_executed",
        "event_id": str(uuid.uuid4()),
        "student_id": student,
        "time": datetime.now(UTC).isoformat(),
        "notebook_path": "week1.ipynb",
        "cell_id": f"cell-{cell}",
        "cell_index": cell,
        "code": "print(1)",
        "status": status,
        "duration_ms": 12.5,
    }
    if status == "error":
        event.update(error_name="NameError", error_value="name 'x' is not defined")
    return {**event, **extra}


def help_request(student: str, kind: str = "help") -> dict[str, Any]:
    """A v1 help event (or another event without fields of its own: "heartbeat", ...)."""
    return {
        "type": kind,
        "event_id": str(uuid.uuid4()),
        "student_id": student,
        "time": datetime.now(UTC).isoformat(),
    }
