"""Two Ray nodes on this machine, each its own raylet: shards (and so classrooms) spread over
both; while classes stream, the second node is killed -9, raylet and workers, by pid. Its
shards come back on the head, and every acknowledged event is applied exactly once: each
classroom ends equal to the same stream sent to a classroom that saw no fault."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cellmon_cli import stack
from cellmon_cli.cluster import own_cluster
from tests.e2e.deployment import Deployment, own_settings
from tests.e2e.stream import class_stream, comparable, fresh_ids, send_stream
from tests.support.fixtures import temporary_database
from tests.support.second_node import SecondNode, second_node
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
ROOMS = 4


@dataclass
class TwoNodes:
    deployment: Deployment
    node_b: SecondNode
    head_node_id: str


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoNodes]:
    import ray

    with temporary_database() as dsn:
        settings = own_settings(
            "cellmon-nodes",
            dsn,
            checkpoint_interval_s=1.0,
            shards_min=2,
            shards_max=2,
            rebalance_interval_s=0,  # the shards stay where Ray put them
        )
        log = tmp_path_factory.mktemp("node-b") / "ray-node-b.log"
        with (
            own_cluster(settings, resources={"node-a": 1}) as address,
            second_node(address, settings, "node-b", log) as node_b,
        ):
            head = ray.get_runtime_context().get_node_id()
            stack.deploy(settings)
            yield TwoNodes(
                Deployment(f"http://127.0.0.1:{settings.http_port}", settings), node_b, head
            )


def _shard_nodes(deployment: Deployment) -> dict[int, str]:
    return {s["shard"]: s["node_id"] for s in stack.status(deployment.settings)["shards"]}


def test_a_node_killed_mid_class_loses_nothing(two_nodes: TwoNodes) -> None:
    deployment, node_b = two_nodes.deployment, two_nodes.node_b
    nodes = _shard_nodes(deployment)
    assert set(nodes.values()) == {two_nodes.head_node_id, node_b.node_id}, nodes
    rooms = [deployment.classroom(f"room{n}") for n in range(ROOMS)]
    assert {room["shard"] for room in rooms} == {0, 1}, "classrooms on both nodes"
    calm = deployment.classroom("calm")
    streams = class_stream(students=8, per_student=40, seed=17)
    total = sum(len(events) for events in streams.values())
    asyncio.run(send_stream(deployment.url, calm["ingest_token"], streams))
    expected = comparable(deployment.snapshot(calm))
    assert expected["events_applied"] == total

    killed: list[int] = []

    async def kill_node_b(acked: int) -> None:
        if acked >= total // 3 and not killed:
            killed.extend(node_b.kill())

    async def lesson() -> list[int]:
        first, *others = rooms
        return list(
            await asyncio.gather(
                send_stream(
                    deployment.url, first["ingest_token"], fresh_ids(streams), 3, kill_node_b
                ),
                *(
                    send_stream(deployment.url, room["ingest_token"], fresh_ids(streams))
                    for room in others
                ),
            )
        )

    assert asyncio.run(lesson()) == [total] * ROOMS
    assert len(killed) >= 2, "the raylet and its workers"
    back = wait_until(
        lambda: set(_shard_nodes(deployment).values()) == {two_nodes.head_node_id},
        120,
        "the second node's shard to come back on the head",
    )
    assert back
    for room in rooms:
        got: dict[str, Any] = comparable(deployment.snapshot(room))
        assert got == expected, room["classroom_id"]
