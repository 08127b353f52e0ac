"""Where the event log, checkpoints and the classroom registry live, chosen by URL."""

from __future__ import annotations

from actors.stores.base import EventStore, Logged, LogUnavailable


def open_store(url: str) -> EventStore:
    """`memory://` (tests, nothing survives) or `postgresql://...` (what users run)."""
    if url.startswith("memory://"):
        from actors.stores.memory import MemoryStore

        return MemoryStore()
    if url.startswith(("postgresql://", "postgres://")):
        from actors.stores.postgres import PostgresStore

        return PostgresStore(url)
    raise ValueError(f"unsupported store URL {url!r}; expected memory:// or postgresql://")


__all__ = ["EventStore", "LogUnavailable", "Logged", "open_store"]
