"""The Directory: one named actor that knows every classroom, its tokens and its shard."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from actors.adapters.stores import EventStore, open_store
from actors.domain.registry import ClassroomRegistry
from cellmon.settings import Settings

# Starts (or finds) shard N and returns its handle; injected, so this module knows no Ray.
ShardStarter = Callable[[int, Settings], Any]


class Directory:
    """Places classrooms on shards, starting a new shard when the others are full.

    The registry is kept in the store (PostgreSQL), so a restarted directory knows every
    classroom and token again; it is loaded on the first call after (re)start.
    """

    def __init__(self, settings: Settings, start_shard: ShardStarter) -> None:
        self.settings = settings
        self._start_shard = start_shard
        self.registry = ClassroomRegistry()
        self.store: EventStore = open_store(settings.store_url)
        self.shards: list[Any] = []
        self._loaded = asyncio.Lock()
        self._ready = False

    async def _ensure_loaded(self) -> None:
        async with self._loaded:
            if self._ready:
                return
            self.registry.restore(*await self.store.load_registry())
            known = max((c.shard + 1 for c in self.registry.classrooms.values()), default=0)
            while len(self.shards) < max(known, self.settings.shards_min):
                self._add_shard()
            self._ready = True

    def _add_shard(self) -> None:
        self.shards.append(self._start_shard(len(self.shards), self.settings))

    def _place(self) -> int:
        load = self.registry.load_per_shard(len(self.shards))
        emptiest = min(range(len(load)), key=load.__getitem__)
        full = load[emptiest] >= self.settings.classrooms_per_shard
        if full and len(self.shards) < self.settings.shards_max:
            self._add_shard()
            return len(self.shards) - 1
        return emptiest

    async def create_classroom(self, name: str, classroom_id: str | None = None) -> dict[str, Any]:
        """A new classroom; its tokens are returned once and stored only as digests."""
        await self._ensure_loaded()
        created = self.registry.create(name, classroom_id, self._place())
        cid = created["classroom_id"]
        shard = self.registry.classrooms[cid].shard
        try:
            await self.store.save_classroom(cid, name, shard, self.registry.grants_of(cid))
        except Exception:
            self.registry.forget(cid)
            raise
        return {**created, "shard": shard}

    async def rotate_tokens(self, classroom_id: str) -> dict[str, str]:
        """New ingest and instructor tokens (shown once); the old ones stop working within the
        ingest's token cache lifetime (30 s)."""
        await self._ensure_loaded()
        tokens = self.registry.rotate(classroom_id)
        await self.store.replace_grants(classroom_id, self.registry.grants_of(classroom_id))
        return tokens

    async def resolve(self, token_hash: str) -> tuple[str, str] | None:
        """(classroom_id, role) for a token digest, or None."""
        await self._ensure_loaded()
        grant = self.registry.resolve(token_hash)
        return (grant.classroom_id, grant.role) if grant else None

    async def locate(self, classroom_id: str) -> Any | None:
        """The handle of the shard hosting the classroom, or None if it does not exist."""
        await self._ensure_loaded()
        classroom = self.registry.classrooms.get(classroom_id)
        return self.shards[classroom.shard] if classroom else None

    async def classrooms(self) -> list[dict[str, Any]]:
        """Every classroom with its shard."""
        await self._ensure_loaded()
        return [
            {"classroom_id": c.classroom_id, "name": c.name, "shard": c.shard}
            for c in self.registry.classrooms.values()
        ]

    async def shard_handles(self) -> list[Any]:
        """All shard handles, for status and research clients."""
        await self._ensure_loaded()
        return list(self.shards)
