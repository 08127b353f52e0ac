"""A bounded window of recently applied event ids: re-delivery and replay become no-ops."""

from __future__ import annotations


class RecentIds:
    """Remembers the last `capacity` ids in insertion order (a dict keeps that order)."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._capacity = capacity
        self._ids: dict[str, None] = {}

    def add(self, event_id: str) -> bool:
        """Record the id; False when it was already seen."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._capacity:
            del self._ids[next(iter(self._ids))]
        return True

    def __len__(self) -> int:
        return len(self._ids)
