"""Where the event log, checkpoints and the classroom registry live, chosen by URL."""

from __future__ import annotations

from actors.adapters.stores.base import EventStore, Logged, LogUnavailable, NotOwner


def open_store(url: str, writer: str = "cellmon") -> EventStore:
    """`memory://` (tests, nothing survives) or `postgresql://...` (what users run).

    `writer` names the process's connections, so a restarted writer can fence off its
    predecessor's (see `EventStore.fence`)."""
    if url.startswith("memory://"):
        from actors.adapters.stores.memory import MemoryStore

        return MemoryStore()
    if url.startswith(("postgresql://", "postgres://")):
        from actors.adapters.stores.postgres import PostgresStore

        return PostgresStore(url, application_name=writer)
    raise ValueError(f"unsupported store URL {url!r}; expected memory:// or postgresql://")


__all__ = ["EventStore", "LogUnavailable", "Logged", "NotOwner", "open_store"]
