"""Serve's ingest follows the load, on a real cluster: under wrk's load a second replica starts
and takes connections on the same public port (SO_REUSEPORT, `serve_app.rebind`); when the load
stops, the ingest goes back to one replica."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from serve_app.app import ingest_status
from tests.e2e.deployment import Deployment, deployed
from tests.e2e.events import cell_run
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cluster() -> Iterator[Deployment]:
    with deployed(
        "cellmon-replicas",
        ingest_replicas_max=2,
        ingest_upscale_delay_s=1,
        ingest_downscale_delay_s=5,
    ) as d:
        yield d


def _running_replicas() -> int:
    return int(ingest_status()["replicas"].get("RUNNING", 0))


def _post_script(path: Path, token: str) -> Path:
    batch = [cell_run(f"s{n}", "ok", n) for n in range(5)]
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        f"wrk.body = {json.dumps(json.dumps(batch))}\n"
    )
    return path


def test_a_second_replica_takes_load_on_the_public_port_then_stops(
    cluster: Deployment, tmp_path: Path
) -> None:
    wrk = shutil.which("wrk")
    assert wrk, "wrk is installed by `make test` (make wrk)"
    room = cluster.classroom("load")
    script = _post_script(tmp_path / "post.lua", room["ingest_token"])
    assert _running_replicas() == 1
    load = subprocess.Popen(
        [wrk, "-t2", "-c128", "-d600s", "-s", str(script), f"{cluster.url}/api/v1/events"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: _running_replicas() == 2, 180, "a second ingest replica under load")
        answered: set[int] = set()

        def both_answer() -> bool:  # a new connection each time: the kernel picks a replica
            answered.add(httpx.get(f"{cluster.url}/healthz", timeout=30).json()["replica_pid"])
            return len(answered) == 2

        wait_until(both_answer, 60, "both replicas to take connections on the public port")
    finally:
        load.send_signal(signal.SIGINT)  # wrk stops and prints its report
        report = load.communicate(timeout=60)[0]
    assert "Requests/sec" in report, report
    wait_until(lambda: _running_replicas() == 1, 180, "the ingest back to one replica")
    assert httpx.get(f"{cluster.url}/healthz", timeout=30).status_code == 200
