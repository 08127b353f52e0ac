"""Offline: the ingest is unreachable while 50 cells run and Jupyter restarts once; when the
ingest comes back every run arrives exactly once."""

from __future__ import annotations

import socket
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.deployment import Deployment
from tests.e2e.jupyter_harness import (
    JupyterServer,
    KernelSocket,
    free_port,
    new_notebook,
    running,
    stored_events,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


class Forwarder:
    """A TCP port that refuses connections while down and forwards to the ingest while up."""

    def __init__(self, target_port: int) -> None:
        self.port, self.target = free_port(), target_port
        self._listener: socket.socket | None = None

    def up(self) -> None:
        """Start accepting and forwarding."""
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Close the port: new connections are refused."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def run_cells(server: JupyterServer, path: str, numbers: range) -> None:
    """Open the notebook in a new session and run one cell per number."""
    session = new_notebook(server, path)
    kernel = KernelSocket(server, session["kernel"]["id"])
    for n in numbers:
        assert kernel.run(f"value = {n} * 2", f"cell-{n:02d}")["status"] == "ok"
    kernel.close()


def spooled_runs(spool: Path) -> int:
    with sqlite3.connect(spool) as db:
        rows = db.execute("SELECT COUNT(*) FROM events WHERE body LIKE '%cell_executed%'")
        return int(rows.fetchone()[0])


def test_fifty_runs_survive_outage_and_restart_exactly_once(
    deployment: Deployment, tmp_path: Path
) -> None:
    classroom = deployment.classroom("joff")
    ingest = Forwarder(int(deployment.url.rsplit(":", 1)[1]))  # down: connections refused
    spool = tmp_path / "spool.sqlite"
    root = tmp_path / "notebooks"
    root.mkdir()
    env = {
        "CELLMON_SERVER_URL": f"http://127.0.0.1:{ingest.port}",
        "CELLMON_TOKEN": classroom["ingest_token"],
        "CELLMON_SPOOL_PATH": str(spool),
        "CELLMON_BATCH_INTERVAL": "0.2",
        "CELLMON_BATCH_SIZE": "20",
        "CELLMON_MAX_BACKOFF": "3",
        "CELLMON_STUDENT_ID": "ben",
    }
    with running(JupyterServer(root, env)) as server:
        run_cells(server, "one.ipynb", range(25))
        with server.api() as api:
            status = api.get("/cell-monitor/status").json()
        assert status["connected"] is False and status["waiting"] >= 25
    assert spooled_runs(spool) == 25  # kept on disk across the restart

    with running(JupyterServer(root, env)) as server:
        run_cells(server, "two.ipynb", range(25, 50))
        assert spooled_runs(spool) == 50
        ingest.up()

        def arrived() -> dict[str, Any] | None:
            rows = deployment.snapshot(classroom)["students"]
            return rows[0] if rows and rows[0]["executions"] >= 50 else None

        row = wait_until(arrived, 90)
        assert row is not None, server.log_text()[-3000:]
        wait_until(lambda: spooled_runs(spool) == 0, 30)
        with server.api() as api:
            status = api.get("/cell-monitor/status").json()
    ingest.down()

    # The spool is empty, so every send was answered 2xx, which the ingest gives only after
    # applying: nothing is still in flight, and the counts below are final.
    snapshot = deployment.snapshot(classroom)
    assert snapshot["students"][0]["student_id"] == "ben"
    assert snapshot["students"][0]["executions"] == 50
    runs = [
        e
        for e in stored_events(deployment, classroom["classroom_id"])
        if e["type"] == "cell_executed"
    ]
    assert sorted(e["cell_id"] for e in runs) == [f"cell-{n:02d}" for n in range(50)]
    assert snapshot["events_applied"] == len(stored_events(deployment, classroom["classroom_id"]))
    assert status["connected"] is True and status["waiting"] == 0 and status["dropped"] == 0
