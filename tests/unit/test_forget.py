"""Forgetting a student, on a real shard over the memory store: nothing of them is left in the
log, the checkpoint or the shard's memory, the others' state is as it was, and a restarted
shard agrees."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from actors.adapters.alerts import MemoryPublisher
from actors.adapters.stores.memory import MemoryStore
from actors.runtime import shard as shard_module
from actors.runtime.shard import Shard
from tests.unit.factories import at, cell, event, unit_settings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots carry the time they were made: one time, so two can be compared whole."""
    monkeypatch.setattr(shard_module, "_now", lambda: at(30))


GONE, NAME, STAYS = "zq-4711", "Zelda Quux", "bo"


def class_history() -> list[Any]:
    """Two students' runs, errors and hands, a roster line and messages about the first."""
    history = []
    for n in range(6):
        status = "error" if n % 2 else "ok"
        for student, name in ((GONE, NAME), (STAYS, "Bo")):
            history.append(
                cell(
                    status,
                    student_id=student,
                    student_name=name,
                    time=at(n),
                    cell_index=n % 3,
                    **({"error_name": "KeyError"} if status == "error" else {}),
                )
            )
    history += [event("help", student_id=GONE, time=at(7)), event("help", student_id=STAYS)]
    history += [
        event("roster_updated", student_id=GONE, enrolled=True, roster_name=NAME, time=at(8)),
        event("instructor_message", student_id=GONE, instructor="ms.ito", text="hi", time=at(9)),
    ]
    return history


def mentions(value: Any) -> bool:
    text = json.dumps(value, default=str)
    return GONE in text or NAME in text


def without(snapshot: Any, student: str) -> Any:
    """The parts of a snapshot that belong to other students only."""
    rows = [row for row in snapshot["students"] if row["student_id"] != student]
    return sorted(rows, key=lambda row: row["student_id"])


async def test_a_forgotten_student_leaves_nothing_and_the_others_are_untouched() -> None:
    store, settings = MemoryStore(), unit_settings()
    shard = Shard(0, settings)
    shard.store = store
    assert (await shard.ingest("c1", class_history()))["applied"] == len(class_history())
    await shard.checkpoint_now()
    before = await shard.snapshot("c1")
    assert mentions(before) and mentions(store.checkpoints["c1"])

    done = await shard.forget("c1", GONE, "a test")

    assert done == {"events": 9, "points": 0, "students": 1}
    assert not [entry for _, entry in store.log if mentions(entry.event.model_dump())]
    assert not mentions(store.checkpoints["c1"]), "a new checkpoint, without them"
    after = await shard.snapshot("c1")
    assert not mentions(after)
    assert without(after, GONE) == without(before, GONE)  # Bo's row exactly as it was
    assert [h["student_id"] for h in after["help_queue"]] == [STAYS]
    assert store.forgotten == [("c1", "a test", 9)]  # that it happened, not whom
    publisher = shard.publisher
    assert isinstance(publisher, MemoryPublisher)
    assert publisher.alerts["c1"][-1]["kind"] == "student_forgotten"

    restarted = Shard(0, settings)
    restarted.store = store
    assert await restarted.snapshot("c1") == after


async def test_forgetting_waits_for_writes_in_flight_and_takes_the_next_ones() -> None:
    store = MemoryStore()
    shard = Shard(0, unit_settings())
    shard.store = store
    await shard.ingest("c1", class_history())
    runs = [cell(student_id=STAYS, time=at(20 + n)) for n in range(5)]

    results = await asyncio.gather(
        shard.forget("c1", GONE, "a test"), *(shard.ingest("c1", [r]) for r in runs)
    )

    assert [r["applied"] for r in results[1:]] == [1] * 5
    row = next(s for s in (await shard.snapshot("c1"))["students"] if s["student_id"] == STAYS)
    assert row["executions"] == 6 + 5
    assert not mentions(await shard.snapshot("c1"))


async def test_forgetting_twice_or_a_stranger_changes_nothing_more() -> None:
    store = MemoryStore()
    shard = Shard(0, unit_settings())
    shard.store = store
    await shard.ingest("c1", class_history())
    await shard.forget("c1", GONE, "first")
    once = await shard.snapshot("c1")
    assert (await shard.forget("c1", GONE, "again"))["events"] == 0
    assert (await shard.forget("c1", "never-here", "a stranger"))["events"] == 0
    assert await shard.snapshot("c1") == once
