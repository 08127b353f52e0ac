"""New classrooms go to the shard with the least load, not the fewest classrooms, on a real
cluster; `cellmon status` shows each shard's load and node, and the ingest's replicas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cellmon_cli import stack
from tests.e2e.deployment import Deployment, bearer, deployed
from tests.e2e.events import cell_run
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
BUSY = 100  # events/s: CELLMON_SHARD_BUSY_EVENTS_PER_S for this cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Deployment]:
    with deployed(
        "cellmon-place",
        shards_min=2,
        shards_max=2,
        classrooms_per_shard=4,
        shard_busy_events_per_s=BUSY,
    ) as d:
        yield d


def test_a_busy_shard_gets_no_new_classroom_while_a_quiet_one_has_room(
    cluster: Deployment,
) -> None:
    lecture, quiet = cluster.classroom("lecture"), cluster.classroom("quiet")
    assert lecture["shard"] != quiet["shard"], "two idle shards: one classroom each"
    events = [cell_run(f"s{i % 200}", "ok", i % 12) for i in range(3 * BUSY * 10)]
    for start in range(0, len(events), 500):  # 3x the bound over the meter's 10 s window
        answer = httpx.post(
            f"{cluster.url}/api/v1/events",
            json=events[start : start + 500],
            headers=bearer(lecture["ingest_token"]),
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
    busy = shard_load(cluster, lecture["shard"])
    assert busy["events_per_s"] >= BUSY and busy["students"] == 200
    assert busy["node_id"] and busy["rss_mb"] > 0, busy
    assert shard_load(cluster, quiet["shard"])["events_per_s"] == 0
    ingest = stack.status(cluster.settings)["ingest"]
    assert ingest["status"] == "RUNNING" and ingest["replicas"].get("RUNNING", 0) >= 1, ingest

    # By count the two shards tie (one classroom each) and the lower one would win.
    placed = [cluster.classroom(f"new-{n}")["shard"] for n in range(2)]
    assert placed == [quiet["shard"]] * 2, "the quiet shard takes them while the other is busy"
    assert wait_until(
        lambda: shard_load(cluster, lecture["shard"])["events_per_s"] == 0,
        20,
        "the lecture's 10 s window to pass",
    )


def shard_load(cluster: Deployment, shard: int) -> dict[str, Any]:
    """One shard's line of `cellmon status`."""
    return next(s for s in stack.status(cluster.settings)["shards"] if s["shard"] == shard)
