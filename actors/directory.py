"""The Directory: one named actor that knows every classroom, its tokens and its shard."""

from __future__ import annotations

from typing import Any

from actors.registry import ClassroomRegistry


class Directory:
    """Places classrooms on shards, starting a new shard when the others are full.

    Its registry lives in memory: a restart of this actor forgets classrooms until the
    PostgreSQL-backed registry lands (the durability issue).
    """

    def __init__(self, namespace: str, settings: dict[str, Any]) -> None:
        self.namespace = namespace
        self.settings = settings
        self.registry = ClassroomRegistry()
        self.shards: list[Any] = []
        for _ in range(settings["shards_min"]):
            self._add_shard()

    def _add_shard(self) -> None:
        from actors.handles import start_shard  # the Ray wrapper imports this module

        index = len(self.shards)
        self.shards.append(start_shard(index, self.namespace, self.settings["significant_errors"]))

    def _place(self) -> int:
        load = self.registry.load_per_shard(len(self.shards))
        emptiest = min(range(len(load)), key=load.__getitem__)
        full = load[emptiest] >= self.settings["classrooms_per_shard"]
        if full and len(self.shards) < self.settings["shards_max"]:
            self._add_shard()
            return len(self.shards) - 1
        return emptiest

    async def create_classroom(self, name: str, classroom_id: str | None = None) -> dict[str, Any]:
        """A new classroom; its tokens are returned once and stored only as digests."""
        created = self.registry.create(name, classroom_id, self._place())
        return {**created, "shard": self.registry.classrooms[created["classroom_id"]].shard}

    async def resolve(self, token_hash: str) -> tuple[str, str] | None:
        """(classroom_id, role) for a token digest, or None."""
        grant = self.registry.resolve(token_hash)
        return (grant.classroom_id, grant.role) if grant else None

    async def locate(self, classroom_id: str) -> Any | None:
        """The handle of the shard hosting the classroom, or None if it does not exist."""
        classroom = self.registry.classrooms.get(classroom_id)
        return self.shards[classroom.shard] if classroom else None

    async def classrooms(self) -> list[dict[str, Any]]:
        """Every classroom with its shard."""
        return [
            {"classroom_id": c.classroom_id, "name": c.name, "shard": c.shard}
            for c in self.registry.classrooms.values()
        ]

    async def shard_handles(self) -> list[Any]:
        """All shard handles, for status and research clients."""
        return list(self.shards)
