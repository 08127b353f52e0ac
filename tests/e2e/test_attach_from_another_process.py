"""A researcher's process attaches to the running cluster and finds the named actors."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run

pytestmark = pytest.mark.e2e

RESEARCHER = """
import json, sys
from cellmon_cli import cluster
from cellmon.settings import Settings
from actors.runtime.client import ActorClient, blocking

settings = Settings(namespace=sys.argv[2])
cluster.connect(settings, sys.argv[1])
snapshot = blocking(ActorClient(settings.namespace).snapshot(sys.argv[3]))
print(json.dumps(snapshot["summary"]))
"""


def test_researcher_reads_live_state_from_another_process(deployment: Deployment) -> None:
    import ray

    classroom = deployment.classroom("research")
    events = [cell_run("ina", "ok", 0), cell_run("ina", "error", 1), cell_run("oto", "ok", 0)]
    response = httpx.post(
        f"{deployment.url}/api/v1/events",
        json=events,
        headers=bearer(classroom["ingest_token"]),
        timeout=30,
    )
    assert response.status_code == 202

    address = ray.get_runtime_context().gcs_address
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            RESEARCHER,
            address,
            deployment.settings.namespace,
            classroom["classroom_id"],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["students"], summary["executions"], summary["errors"]) == (2, 3, 1)
