"""A bad item, a bound or a failing background pass never costs anyone else their events."""

from __future__ import annotations

from typing import Any

import pytest

from actors.adapters.stores.memory import MemoryStore
from actors.runtime.shard import Shard
from tests.support.waiting import async_wait_until
from tests.unit.factories import cell, event, unit_settings

pytestmark = pytest.mark.unit


def _shard(store: MemoryStore, **limits: Any) -> Shard:
    shard = Shard(0, unit_settings(checkpoint_interval_s=0.01, **limits))
    shard.store = store
    return shard


class PickyStore(MemoryStore):
    """Refuses, like PostgreSQL refusing a value, any write holding a poisoned event, and any
    checkpoint of a poisoned classroom; everything else is stored."""

    def __init__(self) -> None:
        super().__init__()
        self.poisoned_classrooms: set[str] = set()

    async def append(
        self, classroom_id: str, events: list[Any], shard: int | None = None
    ) -> list[Any]:
        if any(getattr(e, "code", "") == "POISON" for e in events):
            raise ValueError("invalid byte sequence for encoding UTF8")
        return await super().append(classroom_id, events, shard)

    async def save_checkpoints(self, rows: list[tuple[str, int, dict[str, Any]]]) -> None:
        if any(classroom in self.poisoned_classrooms for classroom, _, _ in rows):
            raise ValueError("out of range")
        await super().save_checkpoints(rows)


async def test_new_students_past_the_bound_are_refused_alone() -> None:
    shard = _shard(MemoryStore(), students_per_classroom=3)
    await shard.ingest("c1", [cell(student_id="old")])
    batch = [cell(student_id=f"new{i}") for i in range(4)] + [cell(student_id="old")]
    answer = await shard.ingest("c1", batch)
    assert answer["applied"] == 3
    assert [(pos, kind) for pos, kind, _ in answer["rejected"]] == [(2, "limit"), (3, "limit")]
    assert "limit of 3 students" in answer["rejected"][0][2]
    snapshot = await shard.snapshot("c1")
    assert sorted(s["student_id"] for s in snapshot["students"]) == ["new0", "new1", "old"]
    assert len(shard.store.log) == 4  # refused items never reach the log


async def test_a_flood_across_concurrent_batches_admits_exactly_the_bound() -> None:
    shard = _shard(MemoryStore(), students_per_classroom=50)
    batches = [[event("heartbeat", student_id=f"s{b}-{i}") for i in range(20)] for b in range(10)]
    answers = await shard.ingest_batches("c1", batches)
    assert sum(a["applied"] for a in answers) == 50
    assert sum(len(a["rejected"]) for a in answers) == 150
    assert (await shard.snapshot("c1"))["summary"]["students"] == 50


async def test_cells_and_notebooks_past_their_bounds_are_refused() -> None:
    shard = _shard(MemoryStore(), cells_per_student=2, notebooks_per_student=2)
    runs = [cell(cell_id=f"c{i}", notebook_path="a.ipynb") for i in range(3)]
    opened = [event("notebook_opened", notebook_path=p) for p in ("b.ipynb", "c.ipynb")]
    answer = await shard.ingest("c1", [*runs, *opened, cell(cell_id="c0", notebook_path="a.ipynb")])
    reasons = {pos: reason for pos, _, reason in answer["rejected"]}
    assert sorted(reasons) == [2, 4]
    assert "2 tracked cells" in reasons[2] and "2 notebooks" in reasons[4]
    assert answer["applied"] == 4  # a known cell and a known notebook are still taken


async def test_an_item_the_store_refuses_is_rejected_alone() -> None:
    store = PickyStore()
    shard = _shard(store)
    batches = [[cell(), cell(code="POISON"), cell()], [cell(student_id="other")]]
    answers = await shard.ingest_batches("c1", batches)
    assert answers[0]["applied"] == 2 and answers[1]["applied"] == 1
    [[position, kind, reason]] = answers[0]["rejected"]
    assert (position, kind) == (1, "invalid") and "cannot store" in reason
    assert (await shard.snapshot("c1"))["events_applied"] == 3
    assert len(store.log) == 3


async def test_checkpoints_go_on_for_every_other_classroom() -> None:
    store = PickyStore()
    shard = _shard(store)
    for room in ("good", "bad", "also-good"):
        await shard.ingest(room, [event("heartbeat", classroom_id=room)])
    store.poisoned_classrooms.add("bad")
    assert await shard.checkpoint_now() == 2
    assert sorted(store.checkpoints) == ["also-good", "good"]


async def test_the_maintenance_loop_survives_any_failure() -> None:
    store = PickyStore()
    shard = _shard(store)
    await shard.ingest("c1", [event("heartbeat")])
    store.poisoned_classrooms.add("c1")
    original = shard._maintenance_pass
    failures = 0

    async def flaky_pass() -> None:
        nonlocal failures
        if failures < 3:
            failures += 1
            raise RuntimeError("a bug in one pass")
        await original()

    shard._maintenance_pass = flaky_pass  # type: ignore[method-assign]
    await shard.ingest("c2", [event("heartbeat", classroom_id="c2")])
    store.poisoned_classrooms.clear()
    await async_wait_until(lambda: {"c1", "c2"} <= store.checkpoints.keys(), 10, "checkpoints")
    assert failures == 3
