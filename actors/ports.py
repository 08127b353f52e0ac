"""The seam between the actors and alert delivery (help requests, escalations).

The memory publisher is what runs until the Redis publisher lands with the dashboard; the event
log and checkpoints have their own interface in `actors.stores`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol


class AlertPublisher(Protocol):
    """Publishes help and escalation alerts; must never block or fail event application."""

    def publish(self, classroom_id: str, alert: dict[str, Any]) -> None:
        """Queue one alert for the classroom's channel."""


class MemoryPublisher:
    """Keeps alerts in a list per classroom."""

    def __init__(self) -> None:
        self.alerts: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def publish(self, classroom_id: str, alert: dict[str, Any]) -> None:
        """Append the alert to the classroom's list."""
        self.alerts[classroom_id].append(alert)


def open_publisher(url: str) -> AlertPublisher:
    """Publisher for a URL; `memory://` for now, `redis://` arrives with the dashboard."""
    if url.startswith("memory://"):
        return MemoryPublisher()
    raise ValueError(f"unsupported alert publisher URL {url!r}; expected memory://")
