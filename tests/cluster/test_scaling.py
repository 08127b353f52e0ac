"""The shards follow the load, on a real cluster: a class posting hard makes its shard busy and
a new shard takes a classroom off it; when the class stops, the classrooms are packed back onto
one shard and the empty shard stops. Every acknowledged event is applied once throughout."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cellmon_cli import stack
from tests.e2e.deployment import Deployment, deployed
from tests.e2e.events import cell_run
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
BUSY = 100  # events/s: CELLMON_SHARD_BUSY_EVENTS_PER_S for this cluster
SENDERS = 32


@pytest.fixture(scope="module")
def cluster() -> Iterator[Deployment]:
    with deployed(
        "cellmon-scale",
        shards_min=1,
        shards_max=3,
        shard_busy_events_per_s=BUSY,
        shard_busy_for_s=2,
        shard_idle_stop_s=3,
        rebalance_interval_s=0.5,
    ) as d:
        yield d


class Lesson:
    """SENDERS students posting batches until stopped, each batch retried until acknowledged,
    on an event loop of its own thread; `acked` counts acknowledged events per classroom."""

    def __init__(self, url: str, rooms: list[dict[str, Any]]) -> None:
        self.url, self.rooms = url, rooms
        self.acked: Counter[str] = Counter()
        self.answers: Counter[int] = Counter()
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._run(),))

    def __enter__(self) -> Lesson:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(120)
        assert not self._thread.is_alive(), "senders did not stop"

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=SENDERS)) as c:
            await asyncio.gather(*(self._student(c, n) for n in range(SENDERS)))

    async def _student(self, client: httpx.AsyncClient, n: int) -> None:
        room, cell = self.rooms[n % len(self.rooms)], 0
        while not self._stop.is_set():
            batch = [cell_run(f"s{n}", "ok", cell + i) for i in range(5)]
            while True:  # the extension's way: the same batch until it is acknowledged
                try:
                    answer = await client.post(
                        f"{self.url}/api/v1/events",
                        json=batch,
                        headers={"Authorization": f"Bearer {room['ingest_token']}"},
                    )
                except httpx.TransportError:
                    self.answers[0] += 1
                    await asyncio.sleep(0.2)  # a sender's pause before it retries
                    continue
                self.answers[answer.status_code] += 1
                if answer.status_code == 202:
                    self.acked[room["classroom_id"]] += len(batch)
                    break
                assert answer.status_code == 503, answer.text
                await asyncio.sleep(0.2)
            cell += 5


def _status(cluster: Deployment) -> dict[str, Any]:
    return stack.status(cluster.settings)


def _placed(status: dict[str, Any]) -> dict[str, int]:
    return {row["classroom_id"]: row["shard"] for row in status["classrooms"]}


def test_load_spreads_then_the_cluster_shrinks_back(cluster: Deployment) -> None:
    rooms = [cluster.classroom("lecture"), cluster.classroom("lab")]
    assert {room["shard"] for room in rooms} == {0}, "one shard, with room for both"
    with Lesson(cluster.url, rooms) as lesson:
        spread = wait_until(
            lambda: len(set(_placed(_status(cluster)).values())) == 2 and _status(cluster),
            120,
            "a second shard to take a classroom off the busy one",
        )
        assert len(spread["shards"]) == 2, spread["shards"]
    assert set(lesson.answers) <= {202, 503}, lesson.answers
    for room in rooms:
        assert cluster.snapshot(room)["events_applied"] == lesson.acked[room["classroom_id"]]

    quiet = wait_until(
        lambda: len(_status(cluster)["shards"]) == 1 and _status(cluster),
        120,
        "the classrooms packed onto one shard and the empty shard stopped",
    )
    assert len(set(_placed(quiet).values())) == 1, quiet["classrooms"]
    for room in rooms:
        assert cluster.snapshot(room)["events_applied"] == lesson.acked[room["classroom_id"]]
