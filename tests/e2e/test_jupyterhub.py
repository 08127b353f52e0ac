"""A real JupyterHub with the README's jupyterhub_config.py: each user who starts a server is
enrolled under their Hub name, their cells reach the classroom as theirs, and one user's server
token cannot speak for another. A name that is not a valid student id still gets a server."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run
from tests.e2e.hub_harness import Hub, HubServer, running, start_servers
from tests.e2e.jupyter_harness import KernelSocket, new_notebook
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
TOO_LONG = "c" * 129  # a Hub name, but not a student id (at most 128 characters)
# Evaluated after the cell (which imports os): the kernel's environment, its pid, its server's.
ENVIRONMENT = "__import__('json').dumps([dict(os.environ), os.getpid(), os.getppid()])"


def run_a_cell(server: HubServer) -> tuple[dict[str, str], list[int]]:
    """Run a cell in a real kernel through the Hub's proxy; the kernel's environment, its pid and
    its server's pid."""
    session = new_notebook(server, "lesson.ipynb")
    kernel = KernelSocket(server, session["kernel"]["id"])
    try:
        msg_id = kernel.send_execute(
            "import os\nx = 6 * 7", "c1", user_expressions={"e": ENVIRONMENT}
        )
        reply = kernel.replies([msg_id])[msg_id]
    finally:
        kernel.close()
    assert reply["status"] == "ok", reply
    environment, *pids = json.loads(
        ast.literal_eval(reply["user_expressions"]["e"]["data"]["text/plain"])
    )
    return environment, pids


def enrolled_rows(deployment: Deployment, room: dict[str, Any]) -> dict[str, Any]:
    rows = {row["student_id"]: row for row in deployment.snapshot(room)["students"]}
    seen = all(rows.get(name, {}).get("executions", 0) >= 1 for name in ("alice", "bob"))
    return rows if seen else {}


def test_hub_users_are_enrolled_under_their_names_and_speak_only_for_themselves(
    deployment: Deployment, tmp_path: Path
) -> None:
    room = deployment.classroom("hub")
    enroller = tmp_path / "enrollment-token"
    enroller.write_text(room["instructor_token"] + "\n")
    enroller.chmod(0o600)
    values = {
        "CELLMON_URL": repr(deployment.url),
        "CLASSROOM_ID": repr(room["classroom_id"]),
        "ENROLLMENT_TOKEN_FILE": repr(str(enroller)),
        "TEAMS": repr({"alice": "Team A"}),
    }
    hub = Hub(tmp_path, values)
    with running(hub):
        servers = start_servers(hub, ["alice", "bob", TOO_LONG])
        seen = {name: run_a_cell(servers[name]) for name in ("alice", "bob")}
        for _, pids in seen.values():
            hub.pids.update(pids)  # the kernel and its server: stopped at the end if left
        env_a, env_b = seen["alice"][0], seen["bob"][0]

        assert env_a["CELLMON_STUDENT_ID"] == "alice" and env_b["CELLMON_STUDENT_ID"] == "bob"
        assert env_a["CELLMON_SERVER_URL"] == deployment.url
        assert env_a["CELLMON_TOKEN"] != env_b["CELLMON_TOKEN"]
        enroller_seen = [
            v for v in (*env_a.values(), *env_b.values()) if enroller.read_text().strip() in v
        ]
        assert enroller_seen == []  # the enrollment credential stays in the Hub

        rows = wait_until(lambda: enrolled_rows(deployment, room), 60, "both users' cell runs")
        assert rows["alice"]["verified"] is True and rows["bob"]["verified"] is True
        assert rows["alice"]["enrolled"] is True and rows["alice"]["team"] == "Team A"

        as_bob = httpx.post(
            f"{deployment.url}/api/v1/events",
            json=[cell_run("bob")],
            headers=bearer(env_a["CELLMON_TOKEN"]),
            timeout=30,
        )
        assert as_bob.status_code == 403, as_bob.text
        assert [r["kind"] for r in as_bob.json()["rejected"]] == ["forbidden"]

        with servers[TOO_LONG].api() as api:
            status = api.get("/cell-monitor/status").json()
        assert status["monitoring"] is False  # its server started anyway, without monitoring
        assert "not a valid student id" in hub.log_text()
