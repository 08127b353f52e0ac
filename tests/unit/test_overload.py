"""Overload: a raised hand goes first and is never shed; cell runs are refused at once (nothing
logged; 429 when their classroom's queue is too far behind, 503 when the whole ingest is)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from actors.adapters.stores.memory import MemoryStore
from actors.runtime.group_commit import WriteQueue
from actors.runtime.shard import BUSY, Shard
from cellmon.validation import holds_urgent
from serve_app.handoff import Handoff
from serve_app.shedding import Shedding
from tests.support.waiting import async_wait_until
from tests.unit.factories import cell, event, unit_settings

pytestmark = pytest.mark.unit


def _future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


async def test_urgent_batches_form_the_next_group_ahead_of_waiting_bulk() -> None:
    queue = WriteQueue()
    queue.add(["b1"], _future(), urgent=False, now=0.0)
    queue.add(["b2"], _future(), urgent=False, now=1.0)
    queue.add(["h1"], _future(), urgent=True, now=2.0)
    assert queue.oldest_wait_s(now=3.0) == 3.0
    assert [batch for batch, _ in queue.take()] == [["h1"]]
    assert [batch for batch, _ in queue.take()] == [["b1"], ["b2"]]
    assert not queue and queue.oldest_wait_s(now=9.0) == 0.0


async def test_the_wait_is_the_oldest_bulk_batch_still_waiting() -> None:
    queue = WriteQueue()
    queue.add(["x"] * 4_000, _future(), urgent=False, now=0.0)
    queue.add(["y"] * 4_000, _future(), urgent=False, now=5.0)  # too big for the same group
    queue.take()
    assert queue.oldest_wait_s(now=6.0) == 1.0
    assert len(queue.take_all()) == 1 and not queue


def _why(
    shedding: Shedding, in_flight: int, queued_s: float = 0.0, now: float = 10.0
) -> str | None:
    refusal = shedding.refusal(in_flight=in_flight, queued_s=queued_s, now=now)
    return refusal.reason if refusal else None


def test_a_replica_crowded_for_a_second_sheds_when_its_work_would_take_too_long() -> None:
    shedding = Shedding(in_flight_max=1_000, queue_limit_s=1.0)
    for n in range(300):  # 300 answered in the second before 10.0
        shedding.record_done(now=9.0 + n / 300, in_flight=50)
    assert _why(shedding, 99) is None, "a few waiting on a load"
    assert _why(shedding, 350, now=10.0) is None, "a burst just begun is taken"
    assert _why(shedding, 350, now=10.5) is None, "crowded for half a second: still taken"
    for n in range(300):  # crowded all along: now the rate is what the replica can do
        shedding.record_done(now=10.0 + n / 300, in_flight=350)
    assert _why(shedding, 250, now=11.0) is None, "under a second of work"
    assert "about 1.2 s of work" in (_why(shedding, 350, now=11.0) or "")
    assert shedding.done_per_s(now=12.5) == 0.0, "only the last second counts"
    assert shedding.expected_wait_s(in_flight=0, now=12.5) == 0.0, "idle: no wait (JSON-safe)"
    assert "1,000 requests" in (_why(shedding, 1_000) or "")


def test_a_crowd_that_thins_out_starts_its_second_again() -> None:
    shedding = Shedding(in_flight_max=1_000, queue_limit_s=1.0)
    assert _why(shedding, 400, now=0.0) is None
    shedding.record_done(now=0.9, in_flight=20)  # the burst cleared
    for n in range(100):
        shedding.record_done(now=1.0 + n / 100, in_flight=400)
    assert _why(shedding, 400, now=1.5) is None, "crowded again only since 1.0"
    assert "about 4.0 s of work" in (_why(shedding, 400, now=2.0) or "")


def test_one_classrooms_long_queue_is_its_own_limit_and_a_full_ingest_is_everyones() -> None:
    shedding = Shedding(in_flight_max=1_000, queue_limit_s=1.0)
    own = shedding.refusal(in_flight=1, queued_s=1.5, now=10.0)
    assert own and own.classroom_only and "queue is 1.5 s long" in own.reason  # answered 429
    full = shedding.refusal(in_flight=1_000, queued_s=0.0, now=10.0)
    assert full and not full.classroom_only  # answered 503
    assert shedding.refusal(in_flight=1, queued_s=0.9, now=10.0) is None


def test_a_hand_in_either_format_is_urgent_and_nothing_else_is() -> None:
    assert holds_urgent([{"type": "cell_executed"}, {"type": "help"}])
    assert holds_urgent([{"eventType": "help_stop"}])
    assert not holds_urgent([{"type": "cell_executed"}, {"type": ["help"]}, "help", 7])
    assert not holds_urgent([{"type": "helpful"}, {"eventType": {"help": 1}}])
    bulk_with_a_hand = [{"type": "cell_executed"}] * 20 + [{"type": "help"}]
    assert not holds_urgent(bulk_with_a_hand), "a hand does not carry a bulk upload ahead"
    assert holds_urgent(bulk_with_a_hand[1:])


class GatedStore(MemoryStore):
    """Holds every append until `gate` opens, the way a stalled disk would."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.appending = 0

    async def append(
        self, classroom_id: str, events: list[Any], shard: int | None = None
    ) -> list[Any]:
        self.appending += 1
        await self.gate.wait()
        return await super().append(classroom_id, events, shard)


async def test_a_full_queue_refuses_cell_runs_and_takes_a_raised_hand_first() -> None:
    store = GatedStore()
    shard = Shard(0, unit_settings(queue_limit_s=0.05))
    shard.store = store
    writing = asyncio.create_task(shard.ingest("c1", [cell(student_id="a")]))
    await async_wait_until(lambda: store.appending == 1, 5, "the first write to stall")
    waiting = asyncio.create_task(shard.ingest("c1", [cell(student_id="b")]))
    await async_wait_until(
        lambda: shard.hosted["c1"].pending.oldest_wait_s(time.monotonic()) > 0.05,
        5,
        "the waiting batch to pass the queue's bound",
    )

    assert await shard.ingest("c1", [cell(student_id="c")]) == {"error": BUSY}
    hand = asyncio.create_task(shard.ingest("c1", [event("help", student_id="d")]))
    await async_wait_until(lambda: bool(shard.hosted["c1"].pending.urgent), 5, "the hand queued")
    store.gate.set()

    answers = await asyncio.gather(writing, waiting, hand)
    assert [a["applied"] for a in answers] == [1, 1, 1]
    assert [entry.event.student_id for _, entry in store.log] == ["a", "d", "b"]  # hand first
    assert shard.refused_busy == 1
    snapshot = await shard.snapshot("c1")
    assert sorted(s["student_id"] for s in snapshot["students"]) == ["a", "b", "d"]
    assert [h["student_id"] for h in snapshot["help_queue"]] == ["d"]


async def test_the_ingest_sees_how_long_a_classroom_waits_and_a_hand_has_its_own_lane() -> None:
    handoff, release, calls = Handoff(), asyncio.Event(), []

    async def shard_call(batches: list[Any]) -> list[Any]:
        calls.append(batches)
        await release.wait()
        return batches

    first = asyncio.create_task(handoff.deliver(("room", False), "run-1", shard_call))
    await async_wait_until(lambda: len(calls) == 1, 5, "the first call in flight")
    assert handoff.waited_s(("room", False), time.monotonic()) == 0.0  # nothing waits yet
    second = asyncio.create_task(handoff.deliver(("room", False), "run-2", shard_call))
    await async_wait_until(lambda: handoff.in_flight == 2, 5, "the second batch waiting")
    start = time.monotonic()
    assert handoff.waited_s(("room", False), start + 2.0) >= 2.0

    hand = asyncio.create_task(handoff.deliver(("room", True), "hand", shard_call))
    await async_wait_until(lambda: len(calls) == 2, 5, "the hand's call, not behind run-1")
    assert calls[1] == ["hand"]
    release.set()
    assert await asyncio.gather(first, second, hand) == ["run-1", "run-2", "hand"]
    assert handoff.waited_s(("room", False), time.monotonic()) == 0.0
