"""A real Jupyter server with Cell Monitor: cell runs (over the websocket and, as a fallback,
from iopub) reach the real ingest with status, kernel run time and the renamed path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from jupyter_client import BlockingKernelClient

from tests.e2e.deployment import Deployment, bearer
from tests.e2e.jupyter_harness import (
    JupyterServer,
    KernelSocket,
    new_notebook,
    running,
    save_notebook,
    stored_events,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


def monitored(tmp_path: Path, deployment: Deployment, classroom: dict[str, Any]) -> JupyterServer:
    """A Jupyter server sending to the classroom, identified as JupyterHub user 'ana'."""
    root = tmp_path / "notebooks"
    root.mkdir(exist_ok=True)
    env = {
        "CELLMON_SERVER_URL": deployment.url,
        "CELLMON_TOKEN": classroom["ingest_token"],
        "CELLMON_SPOOL_PATH": str(tmp_path / "spool.sqlite"),
        "CELLMON_BATCH_INTERVAL": "0.2",
        "CELLMON_STUDENT_NAME": "Ana",
        "CELLMON_TEAM": "A",
        "JUPYTERHUB_USER": "ana",
    }
    return JupyterServer(root, env)


def test_cell_runs_reach_the_ingest_with_status_timing_and_renamed_path(
    deployment: Deployment, tmp_path: Path
) -> None:
    classroom = deployment.classroom("jcap")
    with running(monitored(tmp_path, deployment, classroom)) as server:
        session = new_notebook(server, "lesson.ipynb")
        kernel = KernelSocket(server, session["kernel"]["id"])
        # Run-all with stop_on_error: the third cell is aborted by the second's error.
        ids = [
            kernel.send_execute("import time; time.sleep(0.3); x = 1", "cell-ok"),
            kernel.send_execute("1 / 0", "cell-err"),
            kernel.send_execute("y = 2", "cell-aborted"),
        ]
        replies = kernel.replies(ids)
        assert [replies[i]["status"] for i in ids] == ["ok", "error", "aborted"]
        with server.api() as api:
            moved = api.patch("/api/contents/lesson.ipynb", json={"path": "renamed.ipynb"})
            assert moved.status_code == 200, moved.text
        assert kernel.run("x + 1", "cell-after-rename")["status"] == "ok"
        kernel.close()
        # A client without the websocket (the kernel's connection file): the iopub fallback.
        direct = BlockingKernelClient(
            connection_file=str(server.runtime_dir / f"kernel-{session['kernel']['id']}.json")
        )
        direct.load_connection_file()
        direct.start_channels()
        try:
            assert direct.execute_interactive("z = 40 + 2", timeout=30)["content"]["status"] == "ok"
        finally:
            direct.stop_channels()

        def cells() -> list[dict[str, Any]]:
            events = stored_events(deployment, classroom["classroom_id"])
            found = [e for e in events if e["type"] == "cell_executed"]
            return found if len(found) >= 5 else []

        runs = wait_until(cells, 60)
        with server.api() as api:
            status = api.get("/cell-monitor/status").json()

    assert [(e["cell_id"], e["status"], e["error_name"], e["notebook_path"]) for e in runs] == [
        ("cell-ok", "ok", None, "lesson.ipynb"),
        ("cell-err", "error", "ZeroDivisionError", "lesson.ipynb"),
        ("cell-aborted", "aborted", None, "lesson.ipynb"),
        ("cell-after-rename", "ok", None, "renamed.ipynb"),
        (None, "ok", None, "renamed.ipynb"),
    ]
    assert runs[0]["duration_ms"] >= 300  # the kernel's own run time, sleep included
    assert all(e["duration_ms"] > 0 for e in runs if e["status"] != "aborted")
    assert runs[2]["duration_ms"] is None
    assert runs[1]["error_value"] == "division by zero"
    assert {e["student_id"] for e in runs} == {"ana"}  # never the message header's username
    assert runs[0]["code"] == "import time; time.sleep(0.3); x = 1"
    assert [e["execution_count"] for e in runs] == [1, 2, None, 3, 4]
    assert runs[4]["code"] == "z = 40 + 2"
    assert status["connected"] is True and status["monitoring"] is True

    detail = httpx.get(
        f"{deployment.url}/api/v1/classrooms/{classroom['classroom_id']}/students/ana",
        headers=bearer(classroom["instructor_token"]),
        timeout=30,
    ).json()
    assert detail["name"] == "Ana" and detail["team"] == "A"
    assert detail["executions"] == 4 and detail["errors"] == 1
    assert detail["last_error"] == "ZeroDivisionError: division by zero"
    by_cell = {c["cell_id"]: c for c in detail["cells"]}
    assert by_cell["cell-aborted"]["last_status"] == "aborted"
    assert by_cell["cell-after-rename"]["notebook_path"] == "renamed.ipynb"
    opened = [
        e
        for e in stored_events(deployment, classroom["classroom_id"])
        if e["type"] == "notebook_opened"
    ]
    assert [e["notebook_path"] for e in opened] == ["lesson.ipynb"]


def test_cell_index_follows_the_saved_notebook(deployment: Deployment, tmp_path: Path) -> None:
    """JupyterLab sends only the cell id: the index comes from the notebook as last saved."""
    classroom = deployment.classroom("jidx")
    with running(monitored(tmp_path, deployment, classroom)) as server:
        session = new_notebook(server, "lesson.ipynb")
        save_notebook(server, "lesson.ipynb", [("intro", "# Lesson"), ("a", "x = 1"), ("b", "x")])
        kernel = KernelSocket(server, session["kernel"]["id"])
        assert kernel.run("x = 1", "a")["status"] == "ok"
        assert kernel.run("x", "b")["status"] == "ok"
        assert kernel.run("y = 2", "not-saved-yet")["status"] == "ok"
        # The student inserts a cell above everything and saves: later runs follow the new order.
        cells = [("new", "z = 3"), ("intro", "# Lesson"), ("a", "x = 1"), ("b", "x")]
        save_notebook(server, "lesson.ipynb", cells)
        assert kernel.run("z = 3", "new")["status"] == "ok"
        assert kernel.run("x", "b")["status"] == "ok"
        kernel.close()

        def runs() -> list[tuple[str, int | None]]:
            events = stored_events(deployment, classroom["classroom_id"])
            cells = [e for e in events if e["type"] == "cell_executed"]
            return [(e["cell_id"], e["cell_index"]) for e in cells] if len(cells) >= 5 else []

        found = wait_until(runs, 60)
    assert found == [("a", 1), ("b", 2), ("not-saved-yet", None), ("new", 0), ("b", 3)]
    detail = httpx.get(
        f"{deployment.url}/api/v1/classrooms/{classroom['classroom_id']}/students/ana",
        headers=bearer(classroom["instructor_token"]),
        timeout=30,
    ).json()
    assert {c["cell_id"]: c["cell_index"] for c in detail["cells"]} == {
        "a": 1,
        "b": 3,
        "not-saved-yet": None,
        "new": 0,
    }
