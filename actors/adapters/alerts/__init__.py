"""The seam between the actors and alert delivery (help requests, escalations).

`redis://` is what users run (actors/redis_publisher.py); the memory publisher is for unit
tests. The event log and checkpoints have their own interface in `actors.adapters.stores`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

from cellmon.views import Alert


class AlertPublisher(Protocol):
    """Publishes help and escalation alerts; must never block or fail event application."""

    def publish(self, classroom_id: str, alert: Alert) -> None:
        """Queue one alert for the classroom's channel."""


class MemoryPublisher:
    """Keeps alerts in a list per classroom."""

    def __init__(self) -> None:
        self.alerts: dict[str, list[Alert]] = defaultdict(list)

    def publish(self, classroom_id: str, alert: Alert) -> None:
        """Append the alert to the classroom's list."""
        self.alerts[classroom_id].append(alert)


def open_publisher(url: str) -> AlertPublisher:
    """Publisher for a URL: `redis://...` (what users run) or `memory://` (tests)."""
    if url.startswith("memory://"):
        return MemoryPublisher()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from actors.adapters.alerts.redis import RedisPublisher

        return RedisPublisher(url)
    raise ValueError(f"unsupported alert publisher URL {url!r}; expected redis:// or memory://")
