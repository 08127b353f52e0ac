"""kill -9 a shard actor's process, then a Serve replica's, under a steady stream: the final
snapshot equals the one from the same stream without faults (bytewax's recovery-test shape)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import httpx
import pytest

from tests.e2e.deployment import Deployment
from tests.e2e.stream import class_stream, comparable, fresh_ids, send_stream

pytestmark = pytest.mark.e2e


async def _shard_pid(deployment: Deployment, classroom_id: str) -> int:
    return int((await deployment.actors.shard_stats(classroom_id))["pid"])


def _replica_pid(deployment: Deployment) -> int:
    return int(httpx.get(f"{deployment.url}/healthz", timeout=30).json()["replica_pid"])


def test_killed_shard_and_replica_lose_nothing(deployment: Deployment) -> None:
    streams = class_stream(students=20, per_student=45, seed=11)
    total = sum(len(events) for events in streams.values())
    calm, stormy = deployment.classroom("calm"), deployment.classroom("stormy")
    asyncio.run(send_stream(deployment.url, calm["ingest_token"], streams))
    expected = comparable(deployment.snapshot(calm))
    assert expected["events_applied"] == total

    killed: list[str] = []

    async def faults(acked: int) -> None:
        if acked >= total // 3 and not killed:
            killed.append("shard")
            os.kill(await _shard_pid(deployment, stormy["classroom_id"]), signal.SIGKILL)
        elif acked >= 2 * total // 3 and killed == ["shard"]:
            killed.append("replica")
            os.kill(await asyncio.to_thread(_replica_pid, deployment), signal.SIGKILL)

    started = time.monotonic()
    acked = asyncio.run(
        send_stream(deployment.url, stormy["ingest_token"], fresh_ids(streams), on_acked=faults)
    )
    assert killed == ["shard", "replica"] and acked == total

    got: dict[str, Any] = comparable(deployment.snapshot(stormy))
    assert got == expected, f"diverged after faults ({time.monotonic() - started:.0f} s run)"
