"""A shard that stays busy moves a classroom off; shards left empty stop, down to the minimum:
the pure policy, then the directory acting on it with real shards in one process."""

from __future__ import annotations

import pytest

from actors.adapters.stores.memory import MemoryStore
from actors.domain.placement import NEW, Bounds, LoadMeter, ShardLoad
from actors.domain.rebalance import Move, idle_to_stop, pack, relieve
from tests.unit.factories import cell
from tests.unit.local_cluster import local_cluster

pytestmark = pytest.mark.unit
BOUNDS = Bounds(classrooms_per_shard=4, shards_max=3, events_per_s=2_000, loop_lag_ms=250)


def _hot(rooms: dict[str, float], lag: float = 0.0) -> ShardLoad:
    rate = sum(rooms.values())
    return ShardLoad(0, len(rooms), events_per_s=rate, loop_lag_ms=lag, rooms=rooms)


def test_the_quietest_classroom_that_covers_the_excess_moves() -> None:
    hot = _hot({"big": 1_200, "mid": 900, "small": 50})  # 150 over the bound
    assert relieve(hot, [ShardLoad(1, 1, events_per_s=500)], BOUNDS, 2) == Move("mid", 0, 1)


def test_a_classroom_too_busy_for_any_other_shard_gets_a_new_one() -> None:
    hot = _hot({"lecture": 2_500, "lab": 400})
    others = [ShardLoad(1, 1, events_per_s=100)]  # 100 + 2,500 would make it busy
    assert relieve(hot, others, BOUNDS, 2) == Move("lecture", 0, NEW)
    assert relieve(hot, others, BOUNDS, 3) is None, "at shards_max: nowhere to go"


def test_a_late_shard_moves_its_busiest_classroom() -> None:
    hot = _hot({"a": 300, "b": 700}, lag=400)
    assert relieve(hot, [ShardLoad(1, 0)], BOUNDS, 2) == Move("b", 0, 1)


def test_a_classroom_is_never_split_nor_sent_to_a_busy_or_full_shard() -> None:
    assert relieve(_hot({"lecture": 5_000}), [ShardLoad(1, 0)], BOUNDS, 2) is None
    hot = _hot({"a": 1_500, "b": 1_000})
    others = [
        ShardLoad(1, 1, loop_lag_ms=300),
        ShardLoad(2, 4),
        ShardLoad(3, 0, answered=False),
    ]
    assert relieve(hot, others, BOUNDS, 4) is None


def test_quiet_shards_pack_downwards_while_more_than_the_minimum_run() -> None:
    loads = [
        ShardLoad(0, 2, events_per_s=100, rooms={"a": 60, "b": 40}),
        ShardLoad(1, 1, events_per_s=30, rooms={"c": 30}),
        ShardLoad(2, 2, events_per_s=20, rooms={"d": 15, "e": 5}),
    ]
    assert pack(loads, loads, BOUNDS, shards_min=1) == Move("e", 2, 0)
    assert pack(loads, loads, BOUNDS, shards_min=3) is None
    assert pack(loads[:1], loads, BOUNDS, shards_min=1) is None, "only shard 0 stayed quiet"
    full = [ShardLoad(0, 4, rooms=dict.fromkeys("abcd", 0.0)), *loads[1:]]
    assert pack(full, full, BOUNDS, shards_min=1) == Move("e", 2, 1)
    lively = [ShardLoad(0, 1, events_per_s=495, rooms={"a": 495}), loads[2]]
    assert pack(lively, lively, BOUNDS, shards_min=1) is None, "0 would stop being quiet"


def test_idle_shards_stop_highest_first_keeping_the_minimum() -> None:
    empty_since = {1: 50.0, 2: 0.0, 3: 0.0}
    assert idle_to_stop(empty_since, now=100, idle_s=60, running=4, shards_min=1) == [3, 2]
    assert idle_to_stop(empty_since, now=100, idle_s=60, running=3, shards_min=2) == [3]
    assert idle_to_stop(empty_since, now=100, idle_s=60, running=2, shards_min=2) == []


async def test_a_busy_shard_hands_a_classroom_to_a_new_shard_which_stops_once_empty() -> None:
    store = MemoryStore()
    directory, shards, client, stopped = local_cluster(
        store,
        shards_min=1,
        shards_max=3,
        shard_busy_events_per_s=50,
        shard_busy_for_s=0,
        shard_idle_stop_s=0,
    )
    for room in ("lecture", "lab"):
        assert (await directory.create_classroom(room, room))["shard"] == 0
    lecture = [cell("ok", classroom_id="lecture", student_id=f"s{i % 40}") for i in range(600)]
    lab = [cell("ok", classroom_id="lab", student_id=f"s{i % 10}") for i in range(300)]
    await client.ingest_batches("lecture", [lecture[i : i + 100] for i in range(0, 600, 100)])
    await client.ingest_batches("lab", [lab])  # 90 events/s over the meter's window: busy

    [moved] = await client.rebalance()
    assert (moved["classroom_id"], moved["from"], moved["to"]) == ("lecture", 0, 1)
    assert {r["classroom_id"]: r["shard"] for r in await client.classrooms()} == {
        "lecture": 1,
        "lab": 0,
    }
    assert (await client.snapshot("lecture"))["summary"]["executions"] == 600
    assert "lecture" in shards[1].hosted and "lecture" not in shards[0].hosted

    for shard in shards.values():  # the lecture is over: a meter window later, all is quiet
        shard.meter = LoadMeter()
        for hosted in shard.hosted.values():
            hosted.meter = LoadMeter()
    packed, stop = await client.rebalance()  # quiet for shard_idle_stop_s (0 s here)
    assert (packed["classroom_id"], packed["from"], packed["to"]) == ("lecture", 1, 0)
    assert stop == {"stopped_shard": 1} and stopped == [1]
    assert list(await directory.running_shards()) == [0]
    assert [s["shard"] for s in await client.all_shard_stats()] == [0]
    (await directory.running_shards())[0].stopped = True  # dies between listing and asking
    [gone] = await client.all_shard_stats()
    assert gone["shard"] == 0 and "killed" in gone["unavailable"]
    (await directory.running_shards())[0].stopped = False
    # The client still holds the stopped shard for the lecture: it asks the directory again.
    assert (await client.snapshot("lecture"))["summary"]["executions"] == 600
    assert await client.rebalance() == [], "never below shards_min"
    again = await directory.create_classroom("Next", "next", require_student_tokens=False)
    assert again["shard"] in (0, 1)


async def test_draining_a_shard_moves_every_classroom_off_and_stops_it() -> None:
    store = MemoryStore()
    directory, _, client, stopped = local_cluster(store, shards_min=1, shards_max=3)
    for room in ("a", "b", "c"):
        await directory.create_classroom(room, room)
    await directory.move("b", NEW)  # a second shard, running
    await client.ingest_batches("a", [[cell("ok", classroom_id="a")]])
    done = await client.drain(0)
    assert [d.get("to") for d in done] == [1, 1, None] and done[-1] == {"stopped_shard": 0}
    assert {r["shard"] for r in await client.classrooms()} == {1} and stopped == [0]
    assert (await client.snapshot("a"))["summary"]["executions"] == 1
    with pytest.raises(ValueError, match="no shard 0"):
        await client.drain(0)
