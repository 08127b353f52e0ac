"""Which classroom moves off a shard that stays busy, which classrooms of quiet shards are
packed together, and which empty shards stop.

Pure: every `rebalance_interval_s` the directory asks each shard for its load (with each of its
classrooms' events/s), keeps since when each shard has been busy, quiet or empty, and acts on
what this module decides. A classroom is never split: a shard busy with one classroom stays so.
Busy means over a bound and quiet means under a quarter of it, so a classroom packed onto a
quiet shard does not make it busy and move straight back.
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.domain.placement import NEW, Bounds, ShardLoad, busy

QUIET_SHARE = 0.25  # a shard under this share of its events/s bound (and not late) is quiet


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


def quiet(load: ShardLoad, bounds: Bounds) -> bool:
    """Doing little: a candidate to give its classrooms to others, or to take theirs."""
    return (
        load.answered
        and not busy(load, bounds)
        and load.events_per_s < bounds.events_per_s * QUIET_SHARE
    )


def pack(
    stayed_quiet: list[ShardLoad], loads: list[ShardLoad], bounds: Bounds, shards_min: int
) -> Move | None:
    """One move that empties a shard on a quiet night, or None: the quietest classroom of the
    highest-numbered shard that stayed quiet, to the lowest-numbered shard below it that has
    room and stays quiet with it (moves only go down, so two shards never trade classrooms).
    Nothing while only `shards_min` shards run: an empty shard would not stop."""
    if len(loads) <= shards_min:
        return None
    for source in sorted((s for s in stayed_quiet if s.rooms), key=lambda s: -s.shard):
        classroom_id, rate = min(source.rooms.items(), key=lambda room: (room[1], room[0]))
        for target in sorted(loads, key=lambda s: s.shard):
            if target.shard >= source.shard:
                break
            fits = target.classrooms < bounds.classrooms_per_shard
            if fits and quiet(target, bounds):
                after = target.events_per_s + rate
                if after < bounds.events_per_s * QUIET_SHARE:
                    return Move(classroom_id, source.shard, target.shard)
    return None


def idle_to_stop(
    empty_since: dict[int, float], now: float, idle_s: float, running: int, shards_min: int
) -> list[int]:
    """Shards empty (no classroom placed) for `idle_s`, highest first, keeping `shards_min`
    running. `empty_since`: each empty running shard, since when it is empty."""
    idle = sorted((s for s, since in empty_since.items() if now - since >= idle_s), reverse=True)
    return idle[: max(0, running - shards_min)]
