"""Where a new classroom goes: the least loaded shard with room, or a new shard.

Pure: each shard measures itself with a `LoadMeter`; the directory asks every shard for its
load when it places a classroom and calls `choose`. Load, not only the count of classrooms:
a shard whose lecture applies thousands of events a second, or whose event loop runs late, gets
no new classroom while a quiet one has room, and when every shard with room is busy a new shard
starts (up to `shards_max`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

NEW = -1  # `choose`: start a new shard for it
WINDOW_S = 10.0  # events/s and loop lag are measured over the last this many seconds


@dataclass(frozen=True)
class ShardLoad:
    """One shard's load as the directory sees it when placing."""

    shard: int
    classrooms: int  # placed on it, loaded in memory or not (the registry's count)
    students: int = 0  # held in memory
    events_per_s: float = 0.0  # applied, over the last WINDOW_S
    loop_lag_ms: float = 0.0  # the latest its event loop ran a timer, worst of the window
    answered: bool = True  # False: it did not answer in time (busy, or starting): load unknown
    starting: bool = False  # its process is still starting: no classroom goes to it yet
    rooms: dict[str, float] = field(default_factory=dict)  # each loaded classroom's events/s


@dataclass(frozen=True)
class Bounds:
    """When a shard is full (classrooms) or busy (load)."""

    classrooms_per_shard: int
    shards_max: int
    events_per_s: float = 2_000.0  # CELLMON_SHARD_BUSY_EVENTS_PER_S
    loop_lag_ms: float = 250.0  # CELLMON_SHARD_BUSY_LOOP_LAG_MS: it answers the ingest late too


def busy(load: ShardLoad, bounds: Bounds) -> bool:
    """Over a load bound: it should take no new classroom."""
    return load.events_per_s >= bounds.events_per_s or load.loop_lag_ms >= bounds.loop_lag_ms


def choose(loads: list[ShardLoad], bounds: Bounds, running: int | None = None) -> int:
    """The shard for a new classroom, or NEW.

    Among shards with room that are not busy: the least loaded (events/s, then students held,
    then classrooms), those that did not answer last. None: a new shard if the cluster may
    grow (`running` shards, if not all of them are choices), else the least loaded shard of
    all, over its bounds."""
    up = [s for s in loads if not s.starting]
    room = [s for s in up if s.classrooms < bounds.classrooms_per_shard and not busy(s, bounds)]
    if room:
        return min(room, key=_lightness).shard
    if (len(loads) if running is None else running) < bounds.shards_max:
        return NEW
    return min(up or loads, key=_lightness).shard if loads else NEW


def meanwhile(loads: list[ShardLoad], bounds: Bounds) -> int | None:
    """While a new shard starts (seconds of a process starting), the running shard that takes
    a new classroom instead, over its count if need be, so nobody waits for the start: the
    lightest that answered and is not busy. None: none can, the classroom waits for the new
    shard. (A shard that becomes busy later is relieved by the rebalancer.)"""
    able = [s for s in loads if s.answered and not s.starting and not busy(s, bounds)]
    return min(able, key=_lightness).shard if able else None


def _lightness(s: ShardLoad) -> tuple[bool, float, int, int, int]:
    return (not s.answered, s.events_per_s, s.students, s.classrooms, s.shard)


@dataclass
class LoadMeter:
    """A shard's own measure of events applied per second and of its event loop's lateness,
    over the last WINDOW_S. `now` is a monotonic clock."""

    applied: deque[tuple[float, int]] = field(default_factory=deque)
    lags: deque[tuple[float, float]] = field(default_factory=deque)

    def record_applied(self, events: int, now: float) -> None:
        second = float(int(now))  # one entry per second, however many batches
        if self.applied and self.applied[-1][0] == second:
            self.applied[-1] = (second, self.applied[-1][1] + events)
        else:
            self.applied.append((second, events))
        self._trim(now)

    def record_lag(self, lag_ms: float, now: float) -> None:
        self.lags.append((now, max(0.0, lag_ms)))
        self._trim(now)

    def events_per_s(self, now: float) -> float:
        self._trim(now)
        return sum(n for _, n in self.applied) / WINDOW_S

    def loop_lag_ms(self, now: float) -> float:
        self._trim(now)
        return max((lag for _, lag in self.lags), default=0.0)

    def _trim(self, now: float) -> None:
        for series in (self.applied, self.lags):
            while series and series[0][0] < now - WINDOW_S:
                series.popleft()
