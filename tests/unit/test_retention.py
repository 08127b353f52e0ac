"""Retention with an injected clock, on real shards, directory and client in one process: a
classroom kept 180 days loses the activity received before that (log, checkpoint, memory), keeps
its roster and settings, and a classroom without retention keeps everything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from actors.adapters.stores.memory import MemoryStore
from actors.runtime import shard as shard_module
from actors.runtime.shard import Shard
from tests.unit.factories import T0, cell, event
from tests.unit.local_cluster import local_cluster

pytestmark = pytest.mark.unit

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shard_module, "_now", lambda: T0 + 400 * DAY)


def term(classroom_id: str) -> list[Any]:
    """A roster line and a run on day 0, then a run on days 100, 200 and 300 (as received)."""
    on = lambda day: {"classroom_id": classroom_id, "received_at": T0 + day * DAY}  # noqa: E731
    history: list[Any] = [
        event("roster_updated", student_id="ana", enrolled=True, roster_name="Ana", **on(0))
    ]
    for day in (0, 100, 200, 300):
        history.append(cell("error", error_name="KeyError", student_id="ana", **on(day)))
        history.append(cell(student_id=f"day{day}", **on(day)))
    return history


async def executions(shard: Shard, classroom_id: str) -> dict[str, int]:
    snapshot = await shard.snapshot(classroom_id)
    return {row["student_id"]: row["executions"] for row in snapshot["students"]}


async def test_a_pass_purges_what_is_older_than_each_classrooms_retention() -> None:
    store = MemoryStore()
    directory, shards, client, _ = local_cluster(store)
    kept = [await directory.create_classroom(name) for name in ("kept", "forever")]
    ids = [room["classroom_id"] for room in kept]
    for cid in ids:
        for item in term(cid):
            await client.ingest_batches(cid, [[item]])
    await client.set_retention(ids[0], 180)
    for shard in shards.values():
        await shard.checkpoint_now()

    done = await client.retention_pass(now=T0 + 350 * DAY)  # keeps day 170 on

    assert [(d["classroom_id"], d["events"]) for d in done] == [(ids[0], 4)]
    assert done[0]["before"] == T0 + 170 * DAY
    left = [e.received_at for c, entry in store.log if c == ids[0] for e in [entry.event]]
    assert sorted({(r - T0).days for r in left}) == [0, 200, 300]  # day 0: the roster line
    host = next(s for s in shards.values() if ids[0] in s.hosted)
    assert await executions(host, ids[0]) == {"ana": 2, "day200": 1, "day300": 1}
    roster = (await host.snapshot(ids[0]))["students"]
    assert [r["name"] for r in roster if r["student_id"] == "ana"] == ["Ana"]
    assert "day0" not in str(store.checkpoints[ids[0]])  # rebuilt and checkpointed anew
    other = next(s for s in shards.values() if ids[1] in s.hosted)
    assert (await executions(other, ids[1]))["ana"] == 4  # no retention: all of it

    assert (await client.retention_pass(now=T0 + 350 * DAY))[0]["events"] == 0  # idempotent
    restarted = Shard(host.shard_id, host.settings)
    restarted.store = store
    assert await executions(restarted, ids[0]) == await executions(host, ids[0])
    await client.set_retention(ids[0], None)
    assert await client.retention_pass(now=T0 + 1000 * DAY) == []


async def test_a_classroom_not_loaded_is_purged_in_the_log_and_loads_without_it() -> None:
    store = MemoryStore()
    directory, shards, client, _ = local_cluster(store)
    cid = (await directory.create_classroom("quiet"))["classroom_id"]
    for item in term(cid):
        await client.ingest_batches(cid, [[item]])
    host = next(s for s in shards.values() if cid in s.hosted)
    await host.checkpoint_now()
    del host.hosted[cid]  # unloaded, as an idle classroom is
    await client.set_retention(cid, 30)

    done = await client.retention_pass(now=T0 + 250 * DAY)

    assert done[0]["events"] == 6 and cid not in host.hosted  # not loaded for the purge
    assert cid not in store.checkpoints
    assert await executions(host, cid) == {"ana": 1, "day300": 1}


def test_a_retention_under_a_day_or_over_ten_years_is_refused() -> None:
    from actors.domain.registry import Classroom, ClassroomRegistry

    registry = ClassroomRegistry()
    registry.add(Classroom("c1", "c1", 0))
    for days in (0, -1, 3651, 2**70):
        with pytest.raises(ValueError, match="1 to 3,650 days"):
            registry.set_retention("c1", days)
    assert registry.set_retention("c1", 180).retention_days == 180
