"""`cellmon student add|import` and `classroom create --roster` on the running cluster."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import ray

from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run

pytestmark = pytest.mark.e2e


def cellmon(deployment: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI, attached to the test's cluster as an operator's shell would be: without
    RAY_AUTH_MODE, which this process has and a shell has not (the CLI must set it itself,
    before anything imports Ray)."""
    shell = {k: v for k, v in os.environ.items() if k != "RAY_AUTH_MODE"}
    env = {
        **shell,
        "CELLMON_RAY_ADDRESS": ray.get_runtime_context().gcs_address,
        "CELLMON_NAMESPACE": deployment.settings.namespace,
        "CELLMON_STORE_URL": deployment.settings.store_url,
    }
    command = [sys.executable, "-m", "cellmon_cli.cli", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, check=False
    )


def posts(deployment: Deployment, token: str, student: str) -> int:
    answer = httpx.post(
        f"{deployment.url}/api/v1/events",
        json=[cell_run(student)],
        headers=bearer(token),
        timeout=30,
    )
    return answer.status_code


def test_student_add_prints_a_token_for_that_student(deployment: Deployment) -> None:
    room = deployment.classroom("cli-add")
    done = cellmon(
        deployment, "student", "add", room["classroom_id"], "ana", "--name", "Ana", "--json"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    issued = json.loads(done.stdout)
    assert issued.keys() == {"classroom_id", "student_id", "token"}
    assert posts(deployment, issued["token"], "ana") == 202
    assert posts(deployment, issued["token"], "bo") == 403  # only Ana's events
    missing = cellmon(deployment, "student", "add", "no-such-class", "ana")
    assert missing.returncode == 1 and "no classroom" in missing.stderr


def test_a_roster_becomes_a_classroom_that_requires_students_own_tokens(
    deployment: Deployment, tmp_path: Path
) -> None:
    roster = tmp_path / "ds101.csv"
    roster.write_text("student_id,name,team\nana,Ana Lima,Team 1\nbo,Bo,Team 2\n")
    cid = f"roster-{tmp_path.name[-8:].lower().replace('_', '-')}"
    done = cellmon(
        deployment,
        "classroom",
        "create",
        "Roster class",
        "--id",
        cid,
        "--roster",
        str(roster),
        "--json",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    created = json.loads(done.stdout)
    tokens = tmp_path / "ds101-tokens.csv"
    assert tokens.stat().st_mode & 0o777 == 0o600
    rows = {r["student_id"]: r for r in csv.DictReader(tokens.open())}
    assert rows.keys() == {"ana", "bo"} and rows["ana"]["name"] == "Ana Lima"
    assert posts(deployment, rows["bo"]["token"], "bo") == 202
    assert posts(deployment, created["ingest_token"], "bo") == 403  # the class token is refused

    more = tmp_path / "late.csv"
    more.write_text("student_id,name,team\ncy,Cy,\ncy,Twice,\n")
    refused = cellmon(deployment, "student", "import", cid, str(more))
    assert refused.returncode == 1 and "listed twice" in refused.stderr
    snapshot = deployment.snapshot(created)
    assert sorted(s["student_id"] for s in snapshot["students"]) == ["ana", "bo"]
    assert all(s["enrolled"] for s in snapshot["students"])
