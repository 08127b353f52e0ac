"""Placing classrooms by load: the pure policy and each shard's own meter."""

from __future__ import annotations

import time

import pytest

from actors.adapters.stores.memory import MemoryStore
from actors.domain.placement import (
    NEW,
    WINDOW_S,
    Bounds,
    LoadMeter,
    ShardLoad,
    choose,
    meanwhile,
)
from actors.runtime.shard import Shard
from tests.support.waiting import async_wait_until
from tests.unit.factories import cell, unit_settings

pytestmark = pytest.mark.unit
BOUNDS = Bounds(classrooms_per_shard=4, shards_max=3, events_per_s=1_000, loop_lag_ms=200)


def test_a_quiet_shard_gets_the_classroom_though_a_busy_one_holds_fewer() -> None:
    loads = [ShardLoad(0, classrooms=1, events_per_s=1_500), ShardLoad(1, classrooms=3)]
    assert choose(loads, BOUNDS) == 1


def test_among_quiet_shards_the_lighter_one_then_the_emptier_one() -> None:
    loads = [ShardLoad(0, 2, students=300, events_per_s=50), ShardLoad(1, 2, events_per_s=20)]
    assert choose(loads, BOUNDS) == 1
    assert choose([ShardLoad(0, 3), ShardLoad(1, 1)], BOUNDS) == 1


def test_when_every_shard_with_room_is_busy_or_late_a_new_one_starts() -> None:
    loads = [ShardLoad(0, 1, events_per_s=1_000), ShardLoad(1, 1, loop_lag_ms=400)]
    assert choose(loads, BOUNDS) == NEW
    assert choose([ShardLoad(0, 4), ShardLoad(1, 4)], BOUNDS) == NEW, "full by count"


def test_at_the_most_shards_the_least_loaded_takes_it_over_its_bounds() -> None:
    loads = [ShardLoad(i, 4, events_per_s=rate) for i, rate in enumerate((900, 300, 600))]
    assert choose(loads, BOUNDS) == 1


def test_a_moving_classroom_counts_the_shard_it_leaves_among_the_running() -> None:
    full = [ShardLoad(i, 4) for i in (0, 2)]  # shard 1 is the one it leaves
    assert choose(full, BOUNDS, running=3) == 0, "at shards_max: no new shard for it"
    assert choose(full, BOUNDS, running=2) == NEW


def test_a_shard_that_did_not_answer_is_used_last_but_still_used() -> None:
    loads = [ShardLoad(0, 1, answered=False), ShardLoad(1, 3, events_per_s=10)]
    assert choose(loads, BOUNDS) == 1
    assert choose([ShardLoad(0, 1, answered=False)], BOUNDS) == 0, "not a new shard per call"


def test_no_shards_yet_means_a_new_one() -> None:
    assert choose([], BOUNDS) == NEW


def test_a_starting_shard_takes_nothing_and_a_running_one_stands_in() -> None:
    full = [ShardLoad(0, 4, events_per_s=30), ShardLoad(1, 4, events_per_s=10)]
    starting = ShardLoad(2, 0, answered=False, starting=True)
    assert choose([*full, starting], BOUNDS, running=3) == 1, "at shards_max: the lightest"
    assert choose([*full, starting], Bounds(4, shards_max=4)) == NEW
    assert meanwhile([*full, starting], BOUNDS) == 1, "over its count, not its load"
    busy = [ShardLoad(0, 4, events_per_s=1_500), ShardLoad(1, 2, answered=False)]
    assert meanwhile([*busy, starting], BOUNDS) is None, "nobody able: wait for the new one"


def test_the_meter_counts_the_last_window_only() -> None:
    meter = LoadMeter()
    for second in range(30):
        meter.record_applied(100, 1_000.0 + second)
    assert meter.events_per_s(1_029.5) == 100  # seconds 1020-1029: 1,000 events in 10 s
    assert len(meter.applied) <= WINDOW_S + 1, "one entry per second"
    assert meter.events_per_s(1_029.5 + 2 * WINDOW_S) == 0
    meter.record_lag(350, 2_000.0)
    meter.record_lag(-5, 2_001.0)  # a timer that ran early is not late
    assert meter.loop_lag_ms(2_002.0) == 350
    assert meter.loop_lag_ms(2_000.0 + WINDOW_S + 1) == 0


async def test_a_shard_reports_what_it_applies_and_how_late_its_loop_runs() -> None:
    shard = Shard(0, unit_settings(checkpoint_interval_s=60))
    shard.store = MemoryStore()
    idle = await shard.load()
    assert (idle["events_per_s"], idle["students"]) == (0, 0)
    await shard.ingest("c1", [cell(student_id=f"s{i % 5}") for i in range(50)])
    busy = await shard.load()
    assert busy["events_per_s"] == 50 / WINDOW_S and busy["students"] == 5
    assert busy["rss_mb"] > 10 and busy["pid"] > 0
    time.sleep(0.8)  # noqa: ASYNC251 (the stall itself: a blocking call holds this loop)
    assert await async_wait_until(lambda: _late(shard), 5), "the probe saw the stall"
    stats = await shard.stats()
    assert stats["events_per_s"] == busy["events_per_s"], "`cellmon status` shows the load"


async def _late(shard: Shard) -> bool:
    return bool((await shard.load())["loop_lag_ms"] >= 200)
