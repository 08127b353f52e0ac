"""The seams between the actors and the outside world: alert publishing and checkpoints.

The memory implementations are what unit tests and `make demo` without services use; the Redis
publisher and PostgreSQL checkpoint store plug in behind the same interfaces.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol


class AlertPublisher(Protocol):
    """Publishes help and escalation alerts; must never block or fail event application."""

    def publish(self, classroom_id: str, alert: dict[str, Any]) -> None:
        """Queue one alert for the classroom's channel."""


class CheckpointStore(Protocol):
    """Stores classroom snapshots so a restarted shard can rebuild its state."""

    async def save(self, classroom_id: str, checkpoint: dict[str, Any]) -> None:
        """Upsert the classroom's latest checkpoint."""

    async def load(self, classroom_id: str) -> dict[str, Any] | None:
        """The classroom's latest checkpoint, if any."""


class MemoryPublisher:
    """Keeps alerts in a list per classroom."""

    def __init__(self) -> None:
        self.alerts: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def publish(self, classroom_id: str, alert: dict[str, Any]) -> None:
        """Append the alert to the classroom's list."""
        self.alerts[classroom_id].append(alert)


class MemoryCheckpointStore:
    """Checkpoints in a dict: survives nothing, for tests."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    async def save(self, classroom_id: str, checkpoint: dict[str, Any]) -> None:
        """Keep the checkpoint."""
        self.rows[classroom_id] = checkpoint

    async def load(self, classroom_id: str) -> dict[str, Any] | None:
        """Return the kept checkpoint."""
        return self.rows.get(classroom_id)


def open_publisher(url: str) -> AlertPublisher:
    """Publisher for a URL; `memory://` for now, `redis://` arrives with the dashboard."""
    if url.startswith("memory://"):
        return MemoryPublisher()
    raise ValueError(f"unsupported alert publisher URL {url!r}; expected memory://")
