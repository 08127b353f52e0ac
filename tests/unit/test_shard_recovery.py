"""The shard logs before it applies, and a new shard rebuilds the same state from the store."""

from __future__ import annotations

import random
from typing import Any

import pytest

from actors.adapters.stores.memory import MemoryStore
from actors.domain import checkpoint
from actors.runtime.shard import Shard
from tests.unit.factories import at, cell, event, unit_settings

pytestmark = pytest.mark.unit
NOW = at(minutes=30)


def _shard(store: MemoryStore, **overrides: Any) -> Shard:
    shard = Shard(0, unit_settings(**overrides))
    shard.store = store  # the same database, as after a restart
    return shard


def _class_events(n: int, seed: int = 3) -> list[Any]:
    rng = random.Random(seed)
    events = []
    for i in range(n):
        student, when = f"s{rng.randrange(8)}", at(minutes=i / 10)
        if rng.random() < 0.1:
            events.append(event("help", student_id=student, time=when))
        else:
            status = rng.choice(["ok", "ok", "error", "aborted"])
            events.append(
                cell(
                    status,
                    student_id=student,
                    time=when,
                    cell_id=f"c{rng.randrange(5)}",
                    cell_index=rng.randrange(5),
                )
            )
    return events


def _state(shard: Shard) -> dict[str, Any]:
    return shard.hosted["c1"].classroom.snapshot(NOW, activity_minutes=120)


async def test_resent_events_are_logged_and_applied_once() -> None:
    store = MemoryStore()
    shard = _shard(store)
    batch = [cell("ok"), cell("error")]
    answer = await shard.ingest("c1", batch)
    assert counts(answer) == {"applied": 2, "duplicates": 0, "rejected": []}
    answer = await shard.ingest("c1", batch)
    assert counts(answer) == {"applied": 0, "duplicates": 2, "rejected": []}
    assert len(store.log) == 2
    assert _state(shard)["summary"]["executions"] == 2


async def test_nothing_is_applied_when_the_log_cannot_be_written() -> None:
    store = MemoryStore()
    shard = _shard(store)
    await shard.ingest("c1", [cell("ok")])
    store.available = False
    answer = await shard.ingest("c1", [cell("error")])
    assert answer["error"] == "log_unavailable"
    store.available = True
    assert _state(shard)["summary"]["errors"] == 0 and len(store.log) == 1


async def test_a_write_whose_answer_was_lost_is_applied_on_the_retry() -> None:
    store = MemoryStore()
    shard = _shard(store)
    batch = [cell("ok"), cell("error"), event("help")]
    store.lose_answers = True  # PostgreSQL committed, then the connection died
    assert (await shard.ingest("c1", batch))["error"] == "log_unavailable"
    store.lose_answers = False
    answer = await shard.ingest("c1", batch)
    assert counts(answer) == {"applied": 0, "duplicates": 3, "rejected": []}
    summary = _state(shard)["summary"]
    assert (summary["executions"], summary["errors"], summary["help"]) == (2, 1, 1)
    assert len(shard.publisher.alerts["c1"]) == 1  # the help alert was published once


async def test_a_snapshot_after_a_lost_answer_reads_the_log_back() -> None:
    store = MemoryStore()
    shard = _shard(store)
    store.lose_answers = True
    await shard.ingest("c1", [cell("ok")])
    store.lose_answers = False
    assert (await shard.snapshot("c1"))["events_applied"] == 1


@pytest.mark.parametrize("checkpoint_after", [None, 0, 150, 299])
async def test_a_restarted_shard_rebuilds_exactly_the_same_state(
    checkpoint_after: int | None,
) -> None:
    store, events = MemoryStore(), _class_events(300)
    before = _shard(store)
    for i in range(0, 300, 10):
        await before.ingest("c1", events[i : i + 10])
        if checkpoint_after is not None and i == checkpoint_after // 10 * 10:
            assert await before.checkpoint_now() == 1
    after = _shard(store)  # the crashed shard's replacement: checkpoint + log replay
    await after.snapshot("c1")
    assert _state(after) == _state(before)
    answer = await after.ingest("c1", events[:10])
    assert counts(answer) == {"applied": 0, "duplicates": 10, "rejected": []}


async def test_idle_classrooms_unload_after_a_checkpoint_and_come_back() -> None:
    store = MemoryStore()
    shard = _shard(store, idle_unload_s=0)
    await shard.ingest("c1", _class_events(50))
    expected = _state(shard)
    shard._unload_idle()
    assert "c1" in shard.hosted  # not checkpointed yet: kept
    await shard.checkpoint_now()
    shard._unload_idle()
    assert "c1" not in shard.hosted
    await shard.snapshot("c1")
    assert _state(shard) == expected


def test_checkpoint_round_trip_keeps_every_student_field() -> None:
    from actors.domain.classroom import ClassroomActor

    classroom = ClassroomActor("c1")
    classroom.apply_batch(_class_events(120, seed=9))
    restored = checkpoint.restore("c1", checkpoint.dump(classroom))
    assert restored.snapshot(NOW) == classroom.snapshot(NOW)
    for sid, student in classroom.students.items():
        assert restored.students[sid].state == student.state


async def test_coalesced_batches_are_logged_together_and_answered_each() -> None:
    """Concurrent batches share log writes (group commit); each caller gets its own counts,
    and an event sent twice counts once, for whoever sent it first."""
    store = MemoryStore()
    shard = _shard(store)
    events = _class_events(30)
    room = events[0].classroom_id
    answers = await shard.ingest_batches(room, [events[:10], events[5:20], events[20:]])
    assert [counts(a) for a in answers] == [
        {"applied": 10, "duplicates": 0, "rejected": []},
        {"applied": 10, "duplicates": 5, "rejected": []},
        {"applied": 10, "duplicates": 0, "rejected": []},
    ]
    assert len(await store.read_after(room, 0, 100)) == 30
    again = await shard.ingest(room, events[:3])
    assert counts(again) == {"applied": 0, "duplicates": 3, "rejected": []}


def counts(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer without the student's inbox (tests/unit/test_messages.py covers that)."""
    return {k: v for k, v in answer.items() if k != "inbox"}
