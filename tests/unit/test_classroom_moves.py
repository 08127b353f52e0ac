"""A live classroom moves between shards: nothing is lost or applied twice, callers that were
told "moved" find the new shard, reads never go backwards, and a shard the classroom left can
no longer write its log even if it missed the hand-over."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from actors.adapters.stores.memory import MemoryStore
from actors.runtime import shard as shard_module
from actors.runtime.client import ActorClient
from actors.runtime.directory import Directory
from actors.runtime.shard import ClassroomMoved, Shard
from cellmon.settings import Settings
from tests.support.waiting import async_wait_until
from tests.unit.factories import at, cell, unit_settings
from tests.unit.local_cluster import Local, local_cluster

pytestmark = pytest.mark.unit
NOW = at(minutes=30)


def _cluster(store: MemoryStore) -> tuple[Directory, dict[int, Shard], ActorClient]:
    directory, shards, client, _ = local_cluster(store)
    return directory, shards, client


def _executions(snapshot: Any) -> int:
    return int(snapshot["summary"]["executions"])


async def test_a_moved_classroom_keeps_every_event_and_its_old_shard_refuses_it() -> None:
    store = MemoryStore()
    directory, shards, client = _cluster(store)
    room = await directory.create_classroom("Class", "c1")
    source = room["shard"]
    await client.ingest_batches("c1", [[cell("ok"), cell("error")]])

    moved = await client.move("c1")
    assert (moved["from"], moved["to"], moved["prepared"], moved["handed_over"]) == (
        source,
        1 - source,
        True,
        True,
    )
    assert moved["covered_seq"] == 2 == shards[1 - source].hosted["c1"].covered_seq
    assert "c1" not in shards[source].hosted
    assert (await shards[source].ingest("c1", [cell("ok")]))["error"] == "moved"
    with pytest.raises(ClassroomMoved):
        await shards[source].snapshot("c1")

    [answer] = await client.ingest_batches("c1", [[cell("ok")]])  # its cache was the old shard
    assert answer["applied"] == 1
    assert _executions(await client.snapshot("c1")) == 3 == len(store.log)
    assert (await client.move("c1", 1 - source))["moved"] is False
    back = await client.move("c1", source)  # and back again: the old shard takes it
    assert back["to"] == source and _executions(await client.snapshot("c1")) == 3


async def test_twenty_moves_under_ten_posting_clients_lose_and_repeat_nothing() -> None:
    store = MemoryStore()
    directory, shards, client = _cluster(store)
    await directory.create_classroom("Class", "c1")
    posted: list[int] = []
    seen: list[int] = []

    async def student(n: int) -> None:
        for batch in range(30):
            events = [cell("ok", student_id=f"s{n}", cell_id=f"c{batch}") for _ in range(2)]
            [answer] = await client.ingest_batches("c1", [events])
            assert answer.get("error") is None, answer
            posted.append(answer["applied"])
            await asyncio.sleep(0)

    async def dashboard() -> None:
        while len(posted) < 300:
            seen.append(_executions(await client.snapshot("c1")))
            await asyncio.sleep(0)

    async def mover() -> None:
        for _ in range(20):
            await client.move("c1")
            await asyncio.sleep(0.005)

    await asyncio.gather(*(student(n) for n in range(10)), dashboard(), mover())
    assert sum(posted) == 600 == len(store.log)
    assert _executions(await client.snapshot("c1")) == 600
    assert seen == sorted(seen), "a read went backwards"
    assert sum("c1" in s.hosted for s in shards.values()) == 1


async def test_what_is_logged_between_prepare_and_hand_over_reaches_the_new_shard() -> None:
    store = MemoryStore()
    directory, shards, client = _cluster(store)
    source = (await directory.create_classroom("Class", "c1"))["shard"]
    await client.ingest_batches("c1", [[cell("ok")]])
    await shards[1 - source].prepare("c1")  # the new shard loads what is logged so far ...
    await client.ingest_batches("c1", [[cell("error"), cell("ok")]])  # ... and more comes
    original = shards[1 - source].prepare
    shards[1 - source].prepare = lambda classroom_id: original("nothing")  # keep the warm one
    await directory.move("c1", 1 - source)
    assert _executions(await client.snapshot("c1")) == 3
    assert shards[1 - source].hosted["c1"].covered_seq == 3


async def test_a_shard_that_missed_the_hand_over_cannot_write_and_unloads() -> None:
    store = MemoryStore()
    directory, shards, _ = _cluster(store)
    source = (await directory.create_classroom("Class", "c1"))["shard"]
    await shards[source].ingest("c1", [cell("ok")])
    await store.move_classroom("c1", 1 - source)  # as if the shard was unreachable

    assert (await shards[source].ingest("c1", [cell("error")]))["error"] == "moved"
    assert "c1" not in shards[source].hosted and len(store.log) == 1
    with pytest.raises(ClassroomMoved):
        await shards[source].student("c1", "s1")
    fresh = Shard(source, unit_settings())  # restarted: it knows nothing of the move
    fresh.store = store
    with pytest.raises(ClassroomMoved):
        await fresh.snapshot("c1")


async def test_a_release_the_directory_never_completed_is_undone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = MemoryStore()
    directory, shards, _ = _cluster(store)
    source = (await directory.create_classroom("Class", "c1"))["shard"]
    await shards[source].ingest("c1", [cell("ok")])
    await shards[source].release("c1")  # ... and the directory dies before moving it
    assert (await shards[source].ingest("c1", [cell("ok")]))["error"] == "moved"
    monkeypatch.setattr(shard_module, "STALE_DEPARTURE_S", 0.0)
    assert (await shards[source].ingest("c1", [cell("ok")]))["applied"] == 1
    assert _executions(await shards[source].snapshot("c1")) == 2


async def test_moves_that_cannot_be_done_are_refused() -> None:
    directory, _, client = _cluster(MemoryStore())
    await directory.create_classroom("Class", "c1")
    with pytest.raises(LookupError):
        await client.move("nope")
    with pytest.raises(ValueError, match="no shard 7"):
        await client.move("c1", 7)


async def test_a_failed_registry_write_leaves_the_classroom_where_it_was() -> None:
    store = MemoryStore()
    directory, shards, client = _cluster(store)
    source = (await directory.create_classroom("Class", "c1"))["shard"]
    await client.ingest_batches("c1", [[cell("ok")]])

    async def down(classroom_id: str, shard: int) -> None:
        raise OSError("PostgreSQL went away")

    store.move_classroom = down  # type: ignore[method-assign]
    with pytest.raises(OSError):
        await directory.move("c1")
    assert (await store.owner("c1")) == source and "c1" in shards[source].hosted
    [answer] = await client.ingest_batches("c1", [[cell("ok")]])
    assert answer["applied"] == 1


async def test_a_shard_that_cannot_prepare_leaves_the_classroom_where_it_was() -> None:
    store = MemoryStore()
    directory, shards, client = _cluster(store)
    source = (await directory.create_classroom("Class", "c1"))["shard"]

    async def down(classroom_id: str) -> None:
        raise OSError("no node for it yet")

    shards[1 - source].prepare = down  # type: ignore[method-assign]
    with pytest.raises(LookupError, match="cannot take"):
        await client.move("c1")
    assert await store.owner("c1") == source
    [answer] = await client.ingest_batches("c1", [[cell("ok")]])
    assert answer["applied"] == 1


async def test_new_classrooms_go_to_running_shards_while_a_new_shard_starts() -> None:
    """The first events of a classroom never wait for a shard process to start; one shard
    starts at a time, and takes classrooms once it answers."""
    store, gate, started = MemoryStore(), asyncio.Event(), []

    def start_shard(index: int, settings: Settings) -> Local:
        shard = Shard(index, settings)
        shard.store = store
        started.append(index)
        return Local(shard, starting=gate if index >= 1 else None)

    directory = Directory(
        unit_settings(shards_min=1, shards_max=3, classrooms_per_shard=1), start_shard
    )
    directory.store = store
    first = await directory.create_classroom("a")
    assert first["shard"] == 0 and started == [0]
    second = await directory.create_classroom("b")  # shard 0 is full: shard 1 starts
    third = await directory.create_classroom("c")
    assert (second["shard"], third["shard"]) == (0, 0), "placed on the running shard meanwhile"
    assert started == [0, 1], "one shard starts at a time"
    gate.set()
    await async_wait_until(lambda: not directory._starting, 5, "the new shard to answer")
    fourth = await directory.create_classroom("d")
    assert fourth["shard"] == 1
