"""Which classroom moves off a shard that stays busy, and which idle shards stop.

Pure: every `rebalance_interval_s` the directory asks each shard for its load (with each of its
classrooms' events/s), keeps since when each shard has been busy or empty, and acts on what
this module decides. A classroom is never split: a shard busy with one classroom stays so.
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.domain.placement import NEW, Bounds, ShardLoad, busy


@dataclass(frozen=True)
class Move:
    """Move `classroom_id` from shard `source` to `target` (NEW: a shard started for it)."""

    classroom_id: str
    source: int
    target: int


def relieve(hot: ShardLoad, others: list[ShardLoad], bounds: Bounds, running: int) -> Move | None:
    """One move off a shard that stayed busy, or None.

    The classroom: the quietest whose events/s cover the shard's excess over its bound (the
    fewest students to pause for the relief); if none does alone, or the shard is late rather
    than over its rate, the busiest. The target: a shard that takes it without becoming busy
    (the least loaded), else a new shard if the cluster may grow, else none: moving between
    shards that are all busy would only bounce it."""
    if len(hot.rooms) < 2:
        return None
    by_rate = sorted(hot.rooms.items(), key=lambda room: (room[1], room[0]))
    excess = hot.events_per_s - bounds.events_per_s
    covering = [room for room in by_rate if excess >= 0 and room[1] > excess]
    classroom_id, rate = covering[0] if covering else by_rate[-1]
    takers = [
        s
        for s in others
        if s.answered
        and not busy(s, bounds)
        and s.classrooms < bounds.classrooms_per_shard
        and s.events_per_s + rate < bounds.events_per_s
    ]
    if takers:
        target = min(takers, key=lambda s: (s.events_per_s, s.students, s.classrooms, s.shard))
        return Move(classroom_id, hot.shard, target.shard)
    if running < bounds.shards_max:
        return Move(classroom_id, hot.shard, NEW)
    return None


def idle_to_stop(
    empty_since: dict[int, float], now: float, idle_s: float, running: int, shards_min: int
) -> list[int]:
    """Shards empty (no classroom placed) for `idle_s`, highest first, keeping `shards_min`
    running. `empty_since`: each empty running shard, since when it is empty."""
    idle = sorted((s for s, since in empty_since.items() if now - since >= idle_s), reverse=True)
    return idle[: max(0, running - shards_min)]
