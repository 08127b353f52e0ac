"""`cellmon loadtest` against the real deployment: what it reports is what the cluster holds,
and its probes see the cell runs in the snapshot and the help alerts on Redis."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cellmon_cli.loadtest import LoadPlan, Target, run_load
from tests.e2e.deployment import Deployment

pytestmark = pytest.mark.e2e

REDIS = "redis://127.0.0.1:6379/0"


def _target(created: dict[str, str]) -> Target:
    return Target(created["classroom_id"], created["ingest_token"], created["instructor_token"])


def test_classroom_profile_reports_what_the_cluster_applied(deployment: Deployment) -> None:
    created = deployment.classroom("load")
    plan = LoadPlan("classroom", students=20, seconds=8, speed=20, seed=5, probe_every_s=0.5)
    result = asyncio.run(run_load(deployment.url, [_target(created)], plan, REDIS))

    assert result["non_2xx"] == 0 and result["probe_timeouts"] == {}, result
    assert result["events_accepted"] == result["events_sent"] > 50
    assert result["freshness"]["samples"] >= 3
    assert result["help_alert"]["samples"] >= 3
    snapshot = deployment.snapshot(created)
    probe_events = 3 * result["freshness"]["samples"]  # a run, a hand up, a hand down: ~each
    assert snapshot["events_applied"] >= result["events_accepted"]
    assert snapshot["events_applied"] <= result["events_accepted"] + probe_events + 3
    students = {row["student_id"] for row in snapshot["students"]}
    assert len(students) == 21 and "loadtest-probe" in students


def test_stress_profile_every_acknowledged_event_is_applied(deployment: Deployment) -> None:
    created = deployment.classroom("stress")
    plan = LoadPlan("stress", students=50, seconds=3, batch=10, concurrency=8)
    result = asyncio.run(run_load(deployment.url, [_target(created)], plan))

    assert result["non_2xx"] == 0, result
    assert result["events_accepted"] == result["events_sent"] > 0
    assert result["latency"]["samples"] == result["requests"]
    executions = deployment.snapshot(created)["summary"]["executions"]
    probe_runs = result["freshness"]["samples"]
    assert executions == result["events_accepted"] + probe_runs


def test_the_command_prints_a_table_and_writes_json(deployment: Deployment, tmp_path: Path) -> None:
    created = deployment.classroom("cli")
    out = tmp_path / "report.json"
    command = [
        *(sys.executable, "-m", "cellmon_cli.cli", "loadtest"),
        *("--url", deployment.url, "--classroom", created["classroom_id"]),
        *("--token", created["ingest_token"], "--instructor-token", created["instructor_token"]),
        *("--students", "10", "--minutes", "0.1", "--speed", "30", "--json", str(out)),
    ]
    env = {**os.environ, "CELLMON_ALERTS_URL": REDIS}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    for heading in ("requests/s", "events/s", "latency", "freshness", "help alert", "non-2xx"):
        assert heading in done.stdout
    report = json.loads(out.read_text())
    assert report["profile"] == "classroom" and report["students"] == 10
    assert report["non_2xx"] == 0 and report["help_alert"]["samples"] > 0


def test_a_wrong_token_is_reported_not_hidden(deployment: Deployment) -> None:
    created = deployment.classroom("wrong")
    target = Target(created["classroom_id"], "not-a-token", created["instructor_token"])
    plan = LoadPlan("stress", students=5, seconds=1, batch=1, concurrency=2)
    result = asyncio.run(run_load(deployment.url, [target], plan))
    assert result["status_codes"].get("401", 0) == result["requests"] > 0
    assert result["events_accepted"] == 0 and result["non_2xx"] == result["requests"]
