"""The Directory: one named actor that knows every classroom, its tokens and its shard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from actors.adapters.stores import EventStore, open_store
from actors.domain import placement, rebalance
from actors.domain.registry import Change, ClassroomRegistry, Resolved
from cellmon.settings import Settings

# Start (or find) shard N and return its handle; stop a shard by its handle. Injected, so this
# module knows no Ray.
ShardStarter = Callable[[int, Settings], Any]
ShardStopper = Callable[[Any], None]
LOAD_ANSWER_S = 1.0  # a shard slower than this to say its load is not waited for
SHARD_START_S = 120.0  # a new shard not answering by then is no longer counted as starting
MOVE_STEP_S = 10.0  # a shard slower than this at a step of a move is moved around
MOVE_WAIT_S = 2.0  # `locate` of a classroom being moved waits this long for its new shard
log = logging.getLogger("cellmon.directory")


class ShardUnavailable(LookupError):
    """The shard a classroom was to move to did not answer: the classroom stays where it is."""


class Directory:
    """Places classrooms on shards by load, starting a new shard when the others are full or
    busy.

    The registry is kept in the store (PostgreSQL), so a restarted directory knows every
    classroom and token again; it is loaded on the first call after (re)start.
    """

    def __init__(
        self,
        settings: Settings,
        start_shard: ShardStarter,
        stop_shard: ShardStopper | None = None,
    ) -> None:
        self.settings = settings
        self._start_shard, self._stop_shard = start_shard, stop_shard
        self.registry = ClassroomRegistry()
        self.store: EventStore = open_store(settings.store_url)
        self.shards: list[Any | None] = []  # by index; None: stopped (the next start reuses it)
        self._loaded = asyncio.Lock()
        self._writing = asyncio.Lock()  # plan, persist, apply: one registry change at a time
        self._ready = False
        # Classrooms being moved: `locate` waits for the move instead of naming the old shard.
        self._moving: dict[str, asyncio.Event] = {}
        self._busy_since: dict[int, float] = {}  # running shards over a load bound, since when
        self._quiet_since: dict[int, float] = {}  # running shards doing little, since when
        self._empty_since: dict[int, float] = {}  # running shards without classrooms, since when
        self._rebalancer: asyncio.Task[None] | None = None
        self._retainer: asyncio.Task[None] | None = None
        self._starting: dict[int, asyncio.Task[None]] = {}  # new shards not yet answering

    async def _ensure_loaded(self) -> None:
        async with self._loaded:
            if self._ready:
                return
            self.registry.restore(*await self.store.load_registry())
            wanted = {c.shard for c in self.registry.classrooms.values()}
            wanted |= set(range(self.settings.shards_min))
            self.shards = [None] * (max(wanted) + 1)
            for index in sorted(wanted):
                self.shards[index] = self._start_shard(index, self.settings)
            if self.settings.rebalance_interval_s > 0:
                self._rebalancer = asyncio.create_task(self._rebalance_forever())
            if self.settings.retention_interval_s > 0:
                self._retainer = asyncio.create_task(self._retain_forever())
            self._ready = True

    def _running(self) -> list[int]:
        return [i for i, shard in enumerate(self.shards) if shard is not None]

    def _add_shard(self) -> int:
        index = next((i for i, s in enumerate(self.shards) if s is None), len(self.shards))
        handle = self._start_shard(index, self.settings)
        if index == len(self.shards):
            self.shards.append(handle)
        else:
            self.shards[index] = handle
        return index

    def _bounds(self) -> placement.Bounds:
        return placement.Bounds(
            self.settings.classrooms_per_shard,
            self.settings.shards_max,
            self.settings.shard_busy_events_per_s,
            self.settings.shard_busy_loop_lag_ms,
        )

    async def _place(self, leaving: int | None = None) -> int:
        """The shard for a new classroom, by load (`actors.domain.placement`). When placement
        wants a new shard, one starts, and the classroom goes to a running shard meanwhile
        (`placement.meanwhile`), so its first events do not wait seconds for a process; only
        one shard starts at a time. `leaving`: the shard a moving classroom leaves."""
        loads = [load for load in await self._loads() if load.shard != leaving]
        chosen = placement.choose(loads, self._bounds(), running=len(self._running()))
        if chosen != placement.NEW:
            return chosen
        if not self._starting:
            self._watch_start(self._add_shard())
        fallback = placement.meanwhile(loads, self._bounds())
        return fallback if fallback is not None else min(self._starting)

    def _watch_start(self, index: int) -> None:
        """Count the shard as starting until it first answers (or fails to within
        SHARD_START_S: then it counts as unanswered, like any shard that does not answer)."""

        async def started() -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._running_shard(index).load.remote(), SHARD_START_S)
            self._starting.pop(index, None)

        self._starting[index] = asyncio.create_task(started())

    async def _loads(self) -> list[placement.ShardLoad]:
        """Every running shard's load, asked in parallel; one that does not answer within
        LOAD_ANSWER_S counts as of unknown load."""
        placed: dict[int, list[str]] = {i: [] for i in self._running()}
        for classroom in self.registry.classrooms.values():
            placed.setdefault(classroom.shard, []).append(classroom.classroom_id)
        return list(await asyncio.gather(*(self._load_of(i, placed[i]) for i in self._running())))

    async def _load_of(self, index: int, placed: list[str]) -> placement.ShardLoad:
        if index in self._starting:  # not waited for: it answers once its process is up
            return placement.ShardLoad(index, len(placed), answered=False, starting=True)
        try:
            shard = self._running_shard(index)
            report = await asyncio.wait_for(shard.load.remote(), LOAD_ANSWER_S)
            rates = report.get("rooms", {})
            return placement.ShardLoad(
                index,
                len(placed),
                students=int(report["students"]),
                events_per_s=float(report["events_per_s"]),
                loop_lag_ms=float(report["loop_lag_ms"]),
                # every classroom placed there, loaded or not (an unloaded one is quiet)
                rooms={classroom: float(rates.get(classroom, 0.0)) for classroom in placed},
            )
        except Exception:  # busy, restarting, or not an actor at all (unit tests)
            return placement.ShardLoad(index, len(placed), answered=False)

    async def rebalance_once(self) -> list[dict[str, Any]]:
        """One look at the shards (`actors.domain.rebalance`): a shard busy for
        `shard_busy_for_s` moves one classroom off; else one classroom of a shard quiet for
        `shard_idle_stop_s` is packed onto another; shards empty for `shard_idle_stop_s`
        stop, down to `shards_min`. Returns what was done."""
        await self._ensure_loaded()
        now, bounds, done = time.monotonic(), self._bounds(), []
        loads = await self._loads()
        for load in loads:
            _track(self._busy_since, load.shard, placement.busy(load, bounds), now)
            _track(self._quiet_since, load.shard, rebalance.quiet(load, bounds), now)
        for load in loads:
            since = self._busy_since.get(load.shard)
            if since is None or now - since < self.settings.shard_busy_for_s:
                continue
            others = [other for other in loads if other.shard != load.shard]
            move = rebalance.relieve(load, others, bounds, len(self._running()))
            if move is not None:
                done.append(await self._try_move(move.classroom_id, move.target))
                self._busy_since.pop(load.shard, None)  # its meter needs a window to show it
                return done  # the loads have changed: look again next pass
        idle_s = self.settings.shard_idle_stop_s
        stayed_quiet = [s for s in loads if now - self._quiet_since.get(s.shard, now) >= idle_s]
        packing = rebalance.pack(stayed_quiet, loads, bounds, self.settings.shards_min)
        if packing is not None:
            done.append(await self._try_move(packing.classroom_id, packing.target))
        return done + await self._stop_idle(now)

    async def drain(self, shard: int) -> list[dict[str, Any]]:
        """Move every classroom off the shard (where placement puts each), then stop it if
        more than `shards_min` shards run. Returns what was done."""
        await self._ensure_loaded()
        self._running_shard(shard)
        placed = [c.classroom_id for c in self.registry.classrooms.values() if c.shard == shard]
        done = [await self._try_move(classroom_id, None) for classroom_id in placed]
        async with self._writing:
            if self.registry.load_per_shard(len(self.shards))[shard] == 0:
                done += self._stop([shard])
        return done

    async def _try_move(self, classroom_id: str, to_shard: int | None) -> dict[str, Any]:
        try:
            return await self.move(classroom_id, to_shard)
        except ShardUnavailable as error:
            log.warning("%s", error)
            return {"classroom_id": classroom_id, "moved": False, "reason": str(error)}

    async def _stop_idle(self, now: float) -> list[dict[str, Any]]:
        async with self._writing:
            counts = self.registry.load_per_shard(len(self.shards))
            for index, shard in enumerate(self.shards):
                _track(self._empty_since, index, shard is not None and counts[index] == 0, now)
            idle = rebalance.idle_to_stop(
                self._empty_since,
                now,
                self.settings.shard_idle_stop_s,
                len(self._running()),
                self.settings.shards_min,
            )
            return self._stop(idle)

    def _stop(self, indices: list[int]) -> list[dict[str, Any]]:
        """Stop these empty shards while more than `shards_min` run (caller holds _writing)."""
        stopped = []
        for index in indices:
            if self._stop_shard is None or len(self._running()) <= self.settings.shards_min:
                break
            self._stop_shard(self.shards[index])
            self.shards[index] = None
            for since in (self._empty_since, self._busy_since, self._quiet_since):
                since.pop(index, None)
            stopped.append({"stopped_shard": index})
            log.info("stopped shard %d: no classrooms", index)
        return stopped

    async def _rebalance_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.rebalance_interval_s)
            try:
                await self.rebalance_once()
            except Exception:  # the next pass tries again; nothing here may end the loop
                log.exception("rebalancing failed")

    async def retention_pass(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Purge every classroom with a retention period of what is older than it, as of
        `now` (the clock, unless a test or an operator gives one). One classroom at a time:
        retention is never urgent, ingestion is."""
        await self._ensure_loaded()
        now = now or datetime.now(UTC)
        done = []
        for classroom in list(self.registry.classrooms.values()):
            if classroom.retention_days is None:
                continue
            before = now - timedelta(days=classroom.retention_days)
            try:
                shard = self._running_shard(classroom.shard)
                purged = await shard.purge.remote(classroom.classroom_id, before)
            except Exception as error:  # moved, restarting, or the store is down: next pass
                log.warning("retention of %s deferred: %s", classroom.classroom_id, error)
                continue
            done.append({"classroom_id": classroom.classroom_id, "before": before, **purged})
        return done

    async def _retain_forever(self) -> None:
        while True:
            try:
                await self.retention_pass()
            except Exception:  # the next pass tries again; nothing here may end the loop
                log.exception("retention pass failed")
            await asyncio.sleep(self.settings.retention_interval_s)

    async def set_retention(self, classroom_id: str, days: int | None) -> None:
        """Keep a classroom's events `days` days (None: for good); applied by the next pass."""
        await self._ensure_loaded()
        async with self._writing:
            classroom = self.registry.set_retention(classroom_id, days)
            await self.store.save_classroom_settings(classroom)
            self.registry.add(classroom)

    def _running_shard(self, index: int) -> Any:
        if not 0 <= index < len(self.shards) or self.shards[index] is None:
            raise ValueError(f"no shard {index}: the running shards are {self._running()}")
        return self.shards[index]

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
        """Move a live classroom to another shard (`to_shard`, a new one for placement.NEW, or
        the one placement picks).

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
            if to_shard is None:
                target = await self._place(leaving=classroom.shard)
            elif to_shard == placement.NEW:
                target = self._add_shard()
            else:
                target = to_shard
                self._running_shard(target)
            if target == classroom.shard:
                return {"classroom_id": classroom_id, "from": target, "to": target, "moved": False}
            source = self._running_shard(classroom.shard)
            destination = self._running_shard(target)
            prepared = await self._ask(destination.prepare, classroom_id)
            if prepared is None:  # not up (a new shard waiting for a node, say): stay put
                raise ShardUnavailable(f"shard {target} cannot take {classroom_id!r} now")
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
        return self.shards[classroom.shard] if classroom else None  # never a stopped one

    async def classrooms(self) -> list[dict[str, Any]]:
        """Every classroom with its shard."""
        await self._ensure_loaded()
        return [
            {
                "classroom_id": c.classroom_id,
                "name": c.name,
                "shard": c.shard,
                "require_student_tokens": c.require_student_tokens,
                "retention_days": c.retention_days,
            }
            for c in self.registry.classrooms.values()
        ]

    async def running_shards(self) -> dict[int, Any]:
        """Every running shard's handle by index, for status and research clients."""
        await self._ensure_loaded()
        return {index: self.shards[index] for index in self._running()}


def _track(since: dict[int, float], shard: int, holds: bool, now: float) -> None:
    """Keep since when a condition has held for each shard (forget it once it does not)."""
    if holds:
        since.setdefault(shard, now)
    else:
        since.pop(shard, None)
