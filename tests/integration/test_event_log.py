"""The PostgreSQL store against the machine's real server, in a database of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from pydantic import TypeAdapter

from actors.adapters.stores import NotOwner
from actors.adapters.stores.migrate import migrations, upgrade
from actors.adapters.stores.postgres import PostgresStore
from actors.domain.registry import Change, Classroom, Grant
from cellmon.contract import Event
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.integration
_EVENT: TypeAdapter[Event] = TypeAdapter(Event)
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def _event(n: int, classroom: str = "c1", **fields: object) -> Event:
    return _EVENT.validate_python(
        {
            "type": "cell_executed",
            "event_id": f"e{n}",
            "classroom_id": classroom,
            "student_id": f"s{n % 3}",
            "time": NOW,
            "received_at": NOW,
            "status": "ok",
            "code": "print('héllo ✓')",
            **fields,
        }
    )


@pytest.fixture
async def store(machine_database: str) -> AsyncIterator[PostgresStore]:
    connection = await asyncpg.connect(machine_database)
    try:
        assert await upgrade(connection) == [name for _, name, _ in migrations()]
        assert await upgrade(connection) == []  # idempotent
        versions = await connection.fetch("SELECT version FROM schema_migrations")
        assert [r["version"] for r in versions] == [v for v, _, _ in migrations()]
    finally:
        await connection.close()
    opened = PostgresStore(machine_database)
    yield opened
    await opened.close()


async def test_log_holds_exactly_the_accepted_events_once(store: PostgresStore) -> None:
    first = await store.append("c1", [_event(1), _event(2), _event(2)])
    assert [(entry.event.event_id) for entry in first] == ["e1", "e2"]
    again = await store.append("c1", [_event(2), _event(3)])
    assert [entry.event.event_id for entry in again] == ["e3"]
    other_room = await store.append("c2", [_event(1, "c2")])  # ids are unique per classroom
    assert len(other_room) == 1

    replay = await store.read_after("c1", 0, 100)
    assert [entry.event for entry in replay] == [_event(1), _event(2), _event(3)]
    assert [entry.seq for entry in replay] == sorted(entry.seq for entry in replay)
    assert await store.read_after("c1", replay[1].seq, 100) == replay[2:]


async def test_checkpoints_upsert_and_registry_round_trip(store: PostgresStore) -> None:
    await store.save_checkpoints([("c1", 5, {"students": [], "n": 1})])
    await store.save_checkpoints([("c1", 9, {"students": [], "n": 2})])
    assert await store.load_checkpoint("c1") == (9, {"students": [], "n": 2})
    assert await store.load_checkpoint("nope") is None

    room = Classroom("c1", "Intro", 1)
    first = {"digest-a": Grant("c1", "ingest"), "digest-b": Grant("c1", "instructor")}
    await store.save_classroom(room, Change("c1", (), first))
    await store.save_change(Change("c1", (), {"digest-s": Grant("c1", "student", "ana")}))
    await store.save_change(Change("c1", ("digest-a",), {"digest-c": Grant("c1", "ingest")}))
    await store.save_classroom_settings(Classroom("c1", "Intro", 1, require_student_tokens=True))
    rooms, grants = await store.load_registry()
    assert rooms == [Classroom("c1", "Intro", 1, require_student_tokens=True)]
    assert grants == {
        "digest-b": Grant("c1", "instructor"),
        "digest-c": Grant("c1", "ingest"),
        "digest-s": Grant("c1", "student", "ana"),
    }
    with pytest.raises(asyncpg.CheckViolationError):  # a student token names its student
        await store.save_change(Change("c1", (), {"digest-x": Grant("c1", "student")}))


async def test_only_the_classrooms_shard_may_append(store: PostgresStore) -> None:
    await store.save_classroom(Classroom("c1", "Intro", 0), Change("c1"))
    assert [e.seq > 0 for e in await store.append("c1", [_event(1)], shard=0)] == [True]
    with pytest.raises(NotOwner) as refused:
        await store.append("c1", [_event(2)], shard=1)
    assert refused.value.owner == 0
    await store.move_classroom("c1", 1)
    assert await store.owner("c1") == 1
    with pytest.raises(NotOwner):
        await store.append("c1", [_event(3)], shard=0)
    assert [e.event.event_id for e in await store.append("c1", [_event(2)], shard=1)] == ["e2"]
    assert [e.event.event_id for e in await store.read_after("c1", 0, 10)] == ["e1", "e2"]
    assert await store.owner("unknown") is None
    assert len(await store.append("unknown", [_event(1, "unknown")], shard=5)) == 1


async def test_an_append_racing_a_move_sees_the_new_shard(
    store: PostgresStore, machine_database: str
) -> None:
    """The move holds the classroom's row; the old shard's append waits for it, then stores
    nothing: the new shard's replay can never miss an event the old shard logged after it."""
    await store.save_classroom(Classroom("c1", "Intro", 0), Change("c1"))
    mover = await asyncpg.connect(machine_database)
    moving = mover.transaction()
    await moving.start()
    await mover.execute("UPDATE classrooms SET shard = 1 WHERE classroom_id = 'c1'")
    late = asyncio.create_task(store.append("c1", [_event(1)], shard=0))
    await _until_waiting_on_a_lock(machine_database, "WITH placed")
    assert not late.done()
    await moving.commit()
    await mover.close()
    with pytest.raises(NotOwner):
        await late
    assert await store.read_after("c1", 0, 10) == []


async def _until_waiting_on_a_lock(database: str, query_start: str) -> None:
    watcher = await asyncpg.connect(database)
    try:
        await async_wait_until(
            lambda: watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND ltrim(query, E' \\n') LIKE $1 AND datname = current_database()",
                f"{query_start}%",
            ),
            10,
            f"a query starting {query_start!r} to wait on a lock",
        )
    finally:
        await watcher.close()


async def test_fence_ends_a_dead_predecessors_open_write(machine_database: str) -> None:
    connection = await asyncpg.connect(machine_database)
    await upgrade(connection)
    await connection.close()
    predecessor = await asyncpg.connect(
        machine_database, server_settings={"application_name": "cellmon-shard-x-0"}
    )
    writing = predecessor.transaction()
    await writing.start()
    await predecessor.execute(
        "INSERT INTO classrooms (classroom_id, name, shard) VALUES ('ghost', 'ghost', 0)"
    )  # the predecessor "dies" here, its transaction still open on the server

    successor = PostgresStore(machine_database, application_name="cellmon-shard-x-0")
    await successor.fence()
    rooms, _ = await successor.load_registry()
    assert rooms == []  # the write can no longer commit
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
        await writing.commit()
    await successor.close()


async def test_a_value_postgresql_refuses_costs_only_its_own_event(
    store: PostgresStore, machine_database: str
) -> None:
    """Validation cleans NUL before the store; should any value still reach PostgreSQL and be
    refused, the shard finds that one event and refuses it alone (real server, real error)."""
    from actors.runtime.shard import Shard
    from cellmon.settings import Settings

    poisoned = _event(2).model_copy(update={"error_value": "nul \x00 here"})  # bypasses validation
    shard = Shard(0, Settings(store_url="memory://", alerts_url="memory://", influx_url=None))
    shard.store = PostgresStore(machine_database, application_name="cellmon-shard-refusal-test")
    answers = await shard.ingest_batches("c1", [[_event(1), poisoned, _event(3)], [_event(4)]])
    assert [a["applied"] for a in answers] == [2, 1]
    [[position, kind, reason]] = answers[0]["rejected"]
    assert (position, kind) == (1, "invalid") and "cannot store" in reason
    await shard.store.close()
    logged = await store.read_after("c1", 0, 100)
    assert [entry.event.event_id for entry in logged] == ["e1", "e3", "e4"]
