"""Overload on the real stack: when a classroom's cell runs have queued past the bound (here,
because PostgreSQL holds the classroom's row), the ingest answers 429 with Retry-After at once,
logs nothing of that request, and still takes a raised hand. Nothing it took is lost. Ingest
requests are answered at the replica's front door, before Serve's own work on them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.deployment import Deployment, bearer, deployed
from tests.e2e.events import cell_run, help_request
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.e2e

QUEUE_LIMIT_S = 0.5


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    # One ingest replica, so every request below meets the same queue.
    with deployed("cellmon-overload", ingest_replicas_max=1, queue_limit_s=QUEUE_LIMIT_S) as d:
        yield d


async def _waiting_on_a_lock(database: str) -> bool:
    watcher = await asyncpg.connect(database)
    try:
        waiting = await watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND query LIKE '%WITH placed%' AND datname = current_database()"
        )
        return bool(waiting)
    finally:
        await watcher.close()


async def test_a_full_queue_refuses_cell_runs_at_once_and_takes_a_raised_hand(
    deployment: Deployment,
) -> None:
    room = await asyncio.to_thread(deployment.classroom, "overload")
    cid, database = room["classroom_id"], deployment.settings.store_url
    url, headers = f"{deployment.url}/api/v1/events", bearer(room["ingest_token"])
    async with httpx.AsyncClient(timeout=60, headers=headers) as client:

        async def post(events: list[dict[str, Any]]) -> httpx.Response:
            return await client.post(url, json=events)

        async def health() -> dict[str, Any]:
            return dict((await client.get(f"{deployment.url}/healthz")).json())

        assert (await post([cell_run("warm")])).status_code == 202  # the classroom is hosted
        holder = await asyncpg.connect(database)
        holding = holder.transaction()
        await holding.start()
        await holder.execute("SELECT 1 FROM classrooms WHERE classroom_id = $1 FOR UPDATE", cid)
        try:
            first = asyncio.create_task(post([cell_run("a")]))
            await async_wait_until(lambda: _waiting_on_a_lock(database), 30, "a stalled write")
            second = asyncio.create_task(post([cell_run("b")]))
            await async_wait_until(
                lambda: _queued_past(health, QUEUE_LIMIT_S), 30, "the queue past its bound"
            )

            refused = await post([cell_run("c")])
            assert refused.status_code == 429, refused.text  # this classroom's limit only
            assert refused.headers["Retry-After"] == "1"
            assert "queue" in refused.json()["detail"]
            # Answered ahead of Serve's per-request work (serve_app.front_door): the first
            # request opened the door; the two stalled ones are still held.
            assert (await health())["answered_at_door"] == 1
            hand = asyncio.create_task(post([help_request("h")]))
            await async_wait_until(
                lambda: _in_flight_at_least(health, 3), 30, "the hand's own call to its shard"
            )
        finally:
            await holding.rollback()
            await holder.close()
        answers = await asyncio.gather(first, second, hand)

    assert [a.status_code for a in answers] == [202, 202, 202], [a.text for a in answers]
    assert [a.json()["accepted"] for a in answers] == [1, 1, 1]
    snapshot = await asyncio.to_thread(deployment.snapshot, room)
    assert sorted(s["student_id"] for s in snapshot["students"]) == ["a", "b", "h", "warm"]
    assert [h["student_id"] for h in snapshot["help_queue"]] == ["h"]
    logged = await _logged_students(database, cid)
    assert sorted(logged) == ["a", "b", "h", "warm"]  # c was refused whole: nothing of it


async def _queued_past(health: Any, limit_s: float) -> bool:
    return float((await health())["queued_s"]) > limit_s


async def _in_flight_at_least(health: Any, count: int) -> bool:
    return int((await health())["handoffs_in_flight"]) >= count


async def _logged_students(database: str, classroom_id: str) -> list[str]:
    connection = await asyncpg.connect(database)
    try:
        rows = await connection.fetch(
            "SELECT student_id FROM events WHERE classroom_id = $1", classroom_id
        )
        return [row["student_id"] for row in rows]
    finally:
        await connection.close()
