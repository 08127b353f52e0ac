"""PostgreSQL stops mid-stream (a private server, never the machine's): the ingest answers 503,
never 2xx, and a retrying client's events all land exactly once after the restart."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import asyncpg
import pytest

from cellmon_cli import stack
from tests.e2e.deployment import Deployment
from tests.e2e.stream import class_stream, send_stream
from tests.support.private_postgres import PrivatePostgres, run_blocking
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.e2e


async def _log_counts(dsn: str) -> tuple[int, int]:
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow("SELECT count(*), count(DISTINCT event_id) FROM events")
        return int(row[0]), int(row[1])
    finally:
        await connection.close()


def test_postgres_outage_gives_503_and_loses_nothing(
    deployment: Deployment, private_postgres: PrivatePostgres
) -> None:
    settings = deployment.settings.model_copy(
        update={"namespace": f"outage-{uuid.uuid4().hex[:6]}", "store_url": private_postgres.dsn}
    )
    stack.deploy(settings, app_name="outage", route="/outage")
    classroom = stack.create_classroom(settings, "outage", "outage")
    streams = class_stream(students=10, per_student=40, seed=5)
    total = sum(len(events) for events in streams.values())
    answers: Counter[int] = Counter()
    outage: list[str] = []

    async def cut_power(acked: int) -> None:
        if acked >= total // 3 and not outage:
            outage.append("down")
            await asyncio.to_thread(private_postgres.stop, "immediate")
            # The other students' streams keep trying against the dead database meanwhile.
            await async_wait_until(lambda: answers[503] >= 10, 60, "503s during the outage")
            await asyncio.to_thread(private_postgres.start)
            outage.append("up")

    url = f"{deployment.proxy_url}/outage"  # a second app: only the proxy routes to it
    acked = asyncio.run(
        send_stream(url, classroom["ingest_token"], streams, on_acked=cut_power, answers=answers)
    )

    assert outage == ["down", "up"] and acked == total
    assert answers[503] > 0, f"no 503 during the outage: {dict(answers)}"
    assert run_blocking(lambda: _log_counts(private_postgres.dsn)) == (total, total)
    snapshot = deployment.snapshot(classroom, prefix="/outage")
    assert snapshot["events_applied"] == total
