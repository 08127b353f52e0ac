"""Two ingest replicas share the public port (SO_REUSEPORT): `kill -9` of one under a stream of
new connections refuses none of them, the stream loses nothing, and Serve's replacement
shares the port again."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.deployment import Deployment, bearer, deployed
from tests.e2e.events import cell_run
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

STUDENTS, RUNS = 16, 25


@pytest.fixture(scope="module")
def twin() -> Iterator[Deployment]:
    with deployed("cellmon-twin", ingest_replicas_min=2, ingest_replicas_max=2) as d:
        yield d


def _two_replicas(url: str) -> set[int] | None:
    """Both replicas' pids once two answer on the public port, else None."""
    pids = _replica_pids(url)
    return pids if len(pids) == 2 else None


def _replica_pids(url: str, tries: int = 20) -> set[int]:
    """The replicas answering the public port, each asked on a new connection (the kernel
    spreads new connections over the sockets that share the port)."""
    pids = set()
    for _ in range(tries):
        try:
            pids.add(int(httpx.get(f"{url}/healthz", timeout=5).json()["replica_pid"]))
        except httpx.TransportError:
            continue
    return pids


async def _send(url: str, token: str, batch: list[dict[str, object]], seen: Counter[str]) -> None:
    """One batch on a new connection, retried until acknowledged; what went wrong is counted."""
    for _ in range(300):
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                reply = await client.post(f"{url}/api/v1/events", json=batch, headers=bearer(token))
        except httpx.ConnectError:
            seen["refused"] += 1  # nothing listened on the port
        except httpx.TransportError:
            seen["reset"] += 1  # the connection's replica died under it: sent again
        else:
            seen[str(reply.status_code)] += 1
            if reply.status_code == 202:
                return
            assert reply.status_code in (429, 503), reply.text
        await asyncio.sleep(0.1)  # a sender's pause before it retries, not a synchronisation
    raise AssertionError("batch never acknowledged")


def test_a_killed_replica_refuses_no_connection_and_loses_nothing(twin: Deployment) -> None:
    pids = wait_until(lambda: _two_replicas(twin.url), 120, "two replicas on the public port")
    room = twin.classroom("crash")
    batches = [[cell_run(f"s{n:02d}", "ok", cell)] for cell in range(RUNS) for n in range(STUDENTS)]
    seen: Counter[str] = Counter()
    victim = sorted(pids)[0]

    async def stream() -> None:
        queue: asyncio.Queue[list[dict[str, object]]] = asyncio.Queue()
        for batch in batches:
            queue.put_nowait(batch)
        done = 0

        async def sender() -> None:
            nonlocal done
            while not queue.empty():
                await _send(twin.url, room["ingest_token"], queue.get_nowait(), seen)
                done += 1
                if done == len(batches) // 3:
                    os.kill(victim, signal.SIGKILL)

        await asyncio.gather(*(sender() for _ in range(8)))

    asyncio.run(stream())

    assert seen["refused"] == 0, f"connections refused while a replica died: {dict(seen)}"
    assert seen["202"] == len(batches)
    assert twin.snapshot(room)["events_applied"] == len(batches)
    replaced = wait_until(lambda: _two_replicas(twin.url), 120, "Serve's replacement replica")
    assert victim not in replaced
