"""A live classroom moves between shards 20 times while its class posts over HTTP, on a real
cluster: nothing is lost or applied twice (it ends equal to the same stream sent to a classroom
that never moved), nothing but a 202 or a documented 503 is answered, reads never go back."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator

import httpx
import pytest

from cellmon_cli import stack
from tests.e2e.deployment import Deployment, bearer, deployed
from tests.e2e.stream import class_stream, comparable, fresh_ids, send_stream
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.e2e
MOVES = 20


@pytest.fixture(scope="module")
def cluster() -> Iterator[Deployment]:
    with deployed("cellmon-move", shards_min=2, shards_max=2) as d:
        yield d


def test_twenty_moves_while_ten_students_post(cluster: Deployment) -> None:
    moving, still = cluster.classroom("moving"), cluster.classroom("still")
    streams = class_stream(students=10, per_student=60, seed=13)
    total = sum(len(events) for events in streams.values())
    answers: Counter[int] = Counter()
    moves: list[dict[str, object]] = []
    applied_seen: list[int] = []
    acked = 0

    async def count(n: int) -> None:
        nonlocal acked
        acked = n

    def acked_at_least(n: int) -> Callable[[], bool]:
        return lambda: acked >= n

    async def mover() -> None:
        actors = cluster.actors
        for k in range(MOVES):  # spread over the stream: move k after k/(MOVES+2) of it
            await async_wait_until(acked_at_least((k + 1) * total // (MOVES + 2)), 120)
            moves.append(await actors.move(moving["classroom_id"]))

    async def dashboard() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while len(moves) < MOVES:
                read = await client.get(
                    f"{cluster.url}/api/v1/classrooms/{moving['classroom_id']}",
                    headers=bearer(moving["instructor_token"]),
                )
                if read.status_code == 200:
                    applied_seen.append(read.json()["events_applied"])
                else:
                    assert read.status_code == 503 and "Retry-After" in read.headers, read.text
                await asyncio.sleep(0.05)  # a dashboard's poll interval, not a synchronisation

    async def lesson() -> None:
        await asyncio.gather(
            send_stream(cluster.url, moving["ingest_token"], streams, 2, count, answers),
            send_stream(cluster.url, still["ingest_token"], fresh_ids(streams), 2),
            mover(),
            dashboard(),
        )

    asyncio.run(lesson())
    assert len(moves) == MOVES and all(m["moved"] and m["handed_over"] for m in moves), moves
    assert {m["to"] for m in moves} == {0, 1}
    assert set(answers) <= {202, 503}, answers  # 503: "moving", with Retry-After
    assert applied_seen == sorted(applied_seen), "a read went backwards"
    placed = {r["classroom_id"]: r["shard"] for r in stack.status(cluster.settings)["classrooms"]}
    assert placed[moving["classroom_id"]] == moves[-1]["to"]
    final = comparable(cluster.snapshot(moving))
    assert final["events_applied"] == total
    assert final == comparable(cluster.snapshot(still))
