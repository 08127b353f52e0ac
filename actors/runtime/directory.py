"""The Directory: one named actor that knows every classroom, its tokens and its shard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from actors.adapters.stores import EventStore, open_store
from actors.domain import placement
from actors.domain.registry import Change, ClassroomRegistry, Resolved
from cellmon.settings import Settings

# Starts (or finds) shard N and returns its handle; injected, so this module knows no Ray.
ShardStarter = Callable[[int, Settings], Any]
LOAD_ANSWER_S = 1.0  # a shard slower than this to say its load is not waited for
MOVE_STEP_S = 10.0  # a shard slower than this at a step of a move is moved around
MOVE_WAIT_S = 2.0  # `locate` of a classroom being moved waits this long for its new shard
log = logging.getLogger("cellmon.directory")


class Directory:
    """Places classrooms on shards by load, starting a new shard when the others are full or
    busy.

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
        self._writing = asyncio.Lock()  # plan, persist, apply: one registry change at a time
        self._ready = False
        # Classrooms being moved: `locate` waits for the move instead of naming the old shard.
        self._moving: dict[str, asyncio.Event] = {}

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

    async def _place(self, leaving: int | None = None) -> int:
        """The shard for a new classroom, by load (`actors.domain.placement`): each shard is
        asked; one that does not answer within LOAD_ANSWER_S counts as of unknown load.
        `leaving`: the shard a moving classroom leaves, which is not a choice."""
        counts = self.registry.load_per_shard(len(self.shards))
        loads = await asyncio.gather(
            *(
                self._load_of(i, shard, counts[i])
                for i, shard in enumerate(self.shards)
                if i != leaving
            )
        )
        bounds = placement.Bounds(
            self.settings.classrooms_per_shard,
            self.settings.shards_max,
            self.settings.shard_busy_events_per_s,
            self.settings.shard_busy_loop_lag_ms,
        )
        chosen = placement.choose(list(loads), bounds, running=len(self.shards))
        if chosen == placement.NEW:
            self._add_shard()
            return len(self.shards) - 1
        return chosen

    async def _load_of(self, index: int, shard: Any, classrooms: int) -> placement.ShardLoad:
        try:
            report = await asyncio.wait_for(shard.load.remote(), LOAD_ANSWER_S)
            return placement.ShardLoad(
                index,
                classrooms,
                students=int(report["students"]),
                events_per_s=float(report["events_per_s"]),
                loop_lag_ms=float(report["loop_lag_ms"]),
            )
        except Exception:  # busy, restarting, or not an actor at all (unit tests)
            return placement.ShardLoad(index, classrooms, answered=False)

    async def create_classroom(
        self, name: str, classroom_id: str | None = None, require_student_tokens: bool = False
    ) -> dict[str, Any]:
        """A new classroom; its tokens are returned once and stored only as digests."""
        await self._ensure_loaded()
        async with self._writing:
            classroom, change, tokens = self.registry.plan_create(
                name, classroom_id, await self._place(), require_student_tokens
            )
            await self.store.save_classroom(classroom, change)
            self.registry.add(classroom)
            self.registry.apply(change)
        return {
            "classroom_id": classroom.classroom_id,
            "name": name,
            "shard": classroom.shard,
            "require_student_tokens": require_student_tokens,
            **tokens,
        }

    async def move(self, classroom_id: str, to_shard: int | None = None) -> dict[str, Any]:
        """Move a live classroom to another shard (`to_shard`, or the one placement picks).

        The new shard loads it ahead (`prepare`); the old one hands it over (refuses new calls
        with "moved", finishes what it took); the store and this registry place it on the new
        shard, which reads what was logged since it prepared (`adopt`). Callers told "moved"
        ask `locate`, which waits for the move: their pause is hand-over + switch + adopt. A
        shard that cannot hand over (dead, unreachable) is moved around: the store refuses
        its appends from then on."""
        await self._ensure_loaded()
        async with self._writing:
            classroom = self.registry.classrooms.get(classroom_id)
            if classroom is None:
                raise LookupError(f"no classroom {classroom_id!r}")
            target = await self._place(leaving=classroom.shard) if to_shard is None else to_shard
            if not 0 <= target < len(self.shards):
                raise ValueError(f"no shard {target}: shards are 0 to {len(self.shards) - 1}")
            if target == classroom.shard:
                return {"classroom_id": classroom_id, "from": target, "to": target, "moved": False}
            source, destination = self.shards[classroom.shard], self.shards[target]
            prepared = await self._ask(destination.prepare, classroom_id)
            started = time.monotonic()  # callers are told "moved" from here on
            self._moving[classroom_id] = moved = asyncio.Event()
            try:
                released = await self._ask(source.release, classroom_id)
                released_ms = (time.monotonic() - started) * 1000
                try:
                    await self.store.move_classroom(classroom_id, target)
                except Exception:
                    await self._ask(source.adopt, classroom_id)  # it stays where it was
                    await self._ask(destination.release, classroom_id)  # drops what it prepared
                    raise
                self.registry.add(replace(classroom, shard=target))
                await self._ask(destination.adopt, classroom_id)
            finally:
                del self._moving[classroom_id]
                moved.set()
        return {
            "classroom_id": classroom_id,
            "from": classroom.shard,
            "to": target,
            "moved": True,
            "prepared": prepared is not None,
            "handed_over": released is not None,
            "covered_seq": (released or {}).get("covered_seq"),
            "released_ms": round(released_ms, 1),
            "paused_ms": round((time.monotonic() - started) * 1000, 1),
        }

    @staticmethod
    async def _ask(method: Any, classroom_id: str) -> dict[str, Any] | None:
        """One step of a move on a shard; None if it failed or did not answer in time. No step
        is needed for safety (the store refuses a shard that missed a move): a failed one
        only costs its callers a longer wait or a fuller replay."""
        try:
            answer: dict[str, Any] = await asyncio.wait_for(
                method.remote(classroom_id), MOVE_STEP_S
            )
            return answer
        except Exception as error:  # dead, unreachable, or the store is down
            log.warning("a move step for %s failed: %s", classroom_id, error)
            return None

    async def rotate_tokens(self, classroom_id: str) -> dict[str, str]:
        """New classroom-wide ingest and instructor tokens (shown once); the old ones stop
        working within the ingest's token cache lifetime (30 s). Students' own tokens stay."""
        await self._ensure_loaded()
        async with self._writing:
            change, tokens = self.registry.plan_rotate(classroom_id)
            await self._commit(change)
        return tokens

    async def student_token(
        self, classroom_id: str, student_id: str, replace_only: bool = False
    ) -> str:
        """A new token bound to one student (shown once); their earlier one stops working.
        With `replace_only`, LookupError unless they hold one already (a rotation)."""
        await self._ensure_loaded()
        async with self._writing:
            if replace_only and not self.registry.has_student_token(classroom_id, student_id):
                raise LookupError(f"student {student_id!r} has no token in {classroom_id!r}")
            change, token = self.registry.plan_student_token(classroom_id, student_id)
            await self._commit(change)
        return token

    async def revoke_student_token(self, classroom_id: str, student_id: str) -> bool:
        """Revoke the student's own token; False if they had none."""
        await self._ensure_loaded()
        async with self._writing:
            change = self.registry.plan_revoke(classroom_id, student_id)
            if not change.dropped:
                return False
            await self._commit(change)
        return True

    async def require_student_tokens(self, classroom_id: str, required: bool) -> None:
        """Turn "students must use their own token" on or off for a classroom."""
        await self._ensure_loaded()
        async with self._writing:
            classroom = self.registry.set_require_student_tokens(classroom_id, required)
            await self.store.save_classroom_settings(classroom)
            self.registry.add(classroom)

    async def _commit(self, change: Change) -> None:
        """Persist a planned change, then let it take effect (never the other way round)."""
        await self.store.save_change(change)
        self.registry.apply(change)

    async def resolve(self, token_hash: str) -> Resolved | None:
        """What a token digest grants, with its classroom's token rule; None if unknown."""
        await self._ensure_loaded()
        grant = self.registry.resolve(token_hash)
        if grant is None:
            return None
        classroom = self.registry.classrooms[grant.classroom_id]
        return Resolved(grant, classroom.require_student_tokens)

    async def locate(self, classroom_id: str) -> Any | None:
        """The handle of the shard hosting the classroom, or None if it does not exist; while
        it is being moved, the new shard's, once the move is done (at most MOVE_WAIT_S)."""
        await self._ensure_loaded()
        moving = self._moving.get(classroom_id)
        if moving is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(moving.wait(), MOVE_WAIT_S)
        classroom = self.registry.classrooms.get(classroom_id)
        return self.shards[classroom.shard] if classroom else None

    async def classrooms(self) -> list[dict[str, Any]]:
        """Every classroom with its shard."""
        await self._ensure_loaded()
        return [
            {
                "classroom_id": c.classroom_id,
                "name": c.name,
                "shard": c.shard,
                "require_student_tokens": c.require_student_tokens,
            }
            for c in self.registry.classrooms.values()
        ]

    async def shard_handles(self) -> list[Any]:
        """All shard handles, for status and research clients."""
        await self._ensure_loaded()
        return list(self.shards)
