"""Shards, a directory and the actor client in one process, called the way Ray calls them."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from actors.adapters.stores.memory import MemoryStore
from actors.runtime.client import ActorClient, ActorsUnavailable
from actors.runtime.directory import Directory
from actors.runtime.shard import Shard
from cellmon.settings import Settings
from tests.unit.factories import unit_settings


class Local:
    """An object called the way a Ray actor handle is (`handle.method.remote` then await)."""

    def __init__(self, target: Any, starting: asyncio.Event | None = None) -> None:
        self.target = target
        self.stopped = False  # then every call fails, as one to a killed actor does
        self.starting = starting  # until it is set, calls wait, as on a process still starting

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.target, name)

        async def remote(*args: Any) -> Any:
            if self.starting is not None:
                await self.starting.wait()
            if self.stopped:
                raise ActorsUnavailable("the actor is dead: it was killed by ray.kill")
            return await method(*args)

        return SimpleNamespace(remote=remote)


def local_cluster(
    store: MemoryStore, **settings: Any
) -> tuple[Directory, dict[int, Shard], ActorClient, list[int]]:
    """The directory (its shards started and stopped in process), the shards by index (the
    latest started at each), the client, and the indices of shards stopped, in order."""
    shards: dict[int, Shard] = {}
    stopped: list[int] = []

    def start_shard(index: int, settings: Settings) -> Local:
        shard = Shard(index, settings)
        shard.store = store
        shards[index] = shard
        return Local(shard)

    def stop_shard(handle: Local) -> None:
        handle.stopped = True
        stopped.append(handle.target.shard_id)

    options = {"shards_min": 2, "shards_max": 2, **settings}
    directory = Directory(unit_settings(**options), start_shard, stop_shard)
    directory.store = store
    client = ActorClient("unit")
    client._directory = Local(directory)
    return directory, shards, client, stopped
