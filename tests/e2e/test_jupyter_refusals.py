"""A real Jupyter server against the real ingest's refusals: a wrong URL (404) and a refused token
(403) keep every event in the spool, and the student's status says why."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.deployment import Deployment
from tests.e2e.jupyter_harness import JupyterServer, KernelSocket, new_notebook, running
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
KEPT = ["notebook_saved", "notebook_opened", "cell_executed", "cell_executed"]


def student(tmp_path: Path, url: str, token: str) -> JupyterServer:
    root = tmp_path / "notebooks"
    root.mkdir(exist_ok=True)
    env = {
        "CELLMON_SERVER_URL": url,
        "CELLMON_TOKEN": token,
        "CELLMON_SPOOL_PATH": str(tmp_path / "spool.sqlite"),
        "CELLMON_BATCH_INTERVAL": "0.2",
        "CELLMON_MAX_BACKOFF": "2",
        "CELLMON_STUDENT_ID": "cleo",
    }
    return JupyterServer(root, env)


def spooled_types(tmp_path: Path) -> list[str]:
    """The types of the events in the student's spool, oldest first."""
    with sqlite3.connect(tmp_path / "spool.sqlite") as db:
        rows = db.execute("SELECT body FROM events ORDER BY seq").fetchall()
    return [json.loads(body)["type"] for (body,) in rows]


def run_two_cells_and_wait_for(server: JupyterServer, cause: str) -> dict[str, Any]:
    """Run two cells; return the status once it shows `cause` with all events still waiting."""
    session = new_notebook(server, "lesson.ipynb")
    kernel = KernelSocket(server, session["kernel"]["id"])
    assert kernel.run("x = 1", "a")["status"] == "ok"
    assert kernel.run("x + 1", "b")["status"] == "ok"
    kernel.close()

    def status() -> dict[str, Any] | None:
        with server.api() as api:
            found = dict(api.get("/cell-monitor/status").json())
        return found if found["cause"] == cause and found["waiting"] >= 4 else None

    found = wait_until(status, 60)
    assert found is not None, server.log_text()[-3000:]
    return found


def test_a_wrong_server_url_keeps_the_spool_and_says_so(
    deployment: Deployment, tmp_path: Path
) -> None:
    classroom = deployment.classroom("j404")
    url = f"{deployment.url}/cellmon"  # a path the ingest does not serve: 404
    with running(student(tmp_path, url, classroom["ingest_token"])) as server:
        status = run_two_cells_and_wait_for(server, "server URL looks wrong: 404")
        attempts = wait_until(lambda: server.log_text().count("server URL looks wrong") >= 3, 60)
    assert attempts, "the sender kept retrying with backoff"
    assert status["connected"] is False and status["unauthorized"] is False
    assert status["waiting"] == 4 and status["refused"] == 0
    assert "Not Found" in status["last_error"]
    assert deployment.snapshot(classroom)["students"] == []
    assert spooled_types(tmp_path) == KEPT


def test_a_refused_token_pauses_and_keeps_the_spool(deployment: Deployment, tmp_path: Path) -> None:
    classroom = deployment.classroom("j403")
    # The instructor's token on the ingest: the real ingest answers 403 with no rejection list.
    server_def = student(tmp_path, deployment.url, classroom["instructor_token"])
    with running(server_def) as server:
        status = run_two_cells_and_wait_for(server, "token refused: ask your instructor")
    assert status["unauthorized"] is True and status["connected"] is False
    assert status["waiting"] == 4 and status["refused"] == 0
    assert 0 < status["retry_in_s"] <= 180  # re-checks by itself, no restart needed
    assert "instructor token" in status["last_error"]
    assert deployment.snapshot(classroom)["students"] == []
    assert spooled_types(tmp_path) == KEPT
