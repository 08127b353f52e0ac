"""Metrics reach InfluxDB (queried with InfluxQL), and an InfluxDB outage never touches ingest."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import httpx
import pytest

from actors.adapters.influx.query import influxql_string, query
from actors.adapters.influx.target import parse_influx_url
from actors.runtime.client import ActorClient, blocking
from cellmon_cli import stack
from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run, help_request
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


def _post(url: str, token: str, events: list[dict[str, object]]) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/events", json=events, headers=bearer(token), timeout=30)


def test_cell_runs_and_help_are_queryable_with_influxql(deployment: Deployment) -> None:
    classroom = deployment.classroom("metrics")
    runs = [cell_run(f"s{n % 4}", "error" if n % 3 == 0 else "ok", n % 5) for n in range(30)]
    assert _post(deployment.url, classroom["ingest_token"], [*runs, help_request("s1")]).is_success
    target = parse_influx_url(deployment.settings.influx_url or "")
    room = influxql_string(classroom["classroom_id"])
    counted = f'SELECT count("count") FROM cell_execution WHERE classroom = {room} GROUP BY status'

    def all_counted() -> list[dict[str, Any]]:
        rows = asyncio.run(query(target.url, target.database, counted))
        return rows if sum(row["count"] for row in rows) == 30 else []

    rows = wait_until(all_counted, 20, "30 cell runs in InfluxDB")
    assert {row["status"]: row["count"] for row in rows} == {"error": 10, "ok": 20}
    helps = asyncio.run(
        query(target.url, target.database, f"SELECT * FROM help WHERE classroom = {room}")
    )
    assert [(row["kind"], row["student"]) for row in helps] == [("raised", "s1")]


def test_influxdb_outage_never_blocks_ingest_and_drops_are_counted(
    deployment: Deployment,
) -> None:
    with socket.socket() as sock:  # a port where no InfluxDB answers
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    settings = deployment.settings.model_copy(
        update={
            "namespace": f"noinflux-{uuid.uuid4().hex[:6]}",
            "influx_url": f"http://127.0.0.1:{dead}/cellmon",
        }
    )
    stack.deploy(settings, app_name="noinflux", route="/noinflux")
    classroom = stack.create_classroom(settings, "noinflux", "noinflux")
    url = f"{deployment.proxy_url}/noinflux"  # a second app: only the proxy routes to it
    for n in range(20):
        answer = _post(url, classroom["ingest_token"], [cell_run(f"s{n % 4}", "ok", n)])
        assert answer.status_code == 202 and answer.json()["accepted"] == 1

    client = ActorClient(settings.namespace)

    def metrics_counted() -> dict[str, int]:
        counted: dict[str, int] = blocking(client.shard_stats("noinflux"))["metrics"]
        return counted if counted["dropped"] >= 20 else {}

    metrics = wait_until(metrics_counted, 60, "the dropped metric lines")
    # Every line is accounted for: nothing written, the rest dropped or still waiting.
    assert metrics["written"] == 0 and metrics["retried"] > 0 and metrics["dropped"] >= 20
    pending = metrics["buffered"] + metrics["in_flight"]
    assert metrics["dropped"] + pending == metrics["added"]
    assert deployment.snapshot(classroom, prefix="/noinflux")["events_applied"] == 20
