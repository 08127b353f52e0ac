"""A real Jupyter server subprocess with Cell Monitor on, and a kernel websocket client."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from websockets.sync.client import ClientConnection, connect

from tests.support.private_postgres import free_port
from tests.support.waiting import wait_until


@dataclass
class JupyterServer:
    """A `jupyter server` (or `jupyter lab`) subprocess on 127.0.0.1 with a token."""

    root: Path
    env: dict[str, str]
    lab: bool = False
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    extra_args: list[str] = field(default_factory=list)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def runtime_dir(self) -> Path:
        """Where the kernels' connection files are."""
        return self.root.parent / "runtime"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60) -> None:
        """Start and wait until the REST API answers."""
        args = [
            sys.executable,
            "-m",
            "jupyterlab" if self.lab else "jupyter_server",
            "--no-browser",
            "--allow-root",  # CI runs as root
            f"--port={self.port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.jpserver_extensions={'jupyter_ext': True}",
            *self.extra_args,
        ]
        self.log_path = self.log_path or self.root.parent / f"jupyter-{self.port}.log"
        log = self.log_path.open("ab")
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(self.runtime_dir), **self.env}
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        wait_until(self._answers, timeout_s, f"jupyter to start (log: {self.log_path})")

    def _answers(self) -> bool:
        assert self.process is not None and self.log_path is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"jupyter exited: {self.log_path.read_text()[-3000:]}")
        try:
            return self.api().get("/api/status").status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """Stop it the way a user does (SIGINT twice), so extensions shut down cleanly."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def api(self) -> httpx.Client:
        """An HTTP client authenticated with the server's token."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"token {self.token}"}, timeout=30
        )

    def log_text(self) -> str:
        """The server's log so far."""
        return self.log_path.read_text(errors="replace") if self.log_path else ""


@contextmanager
def running(server: JupyterServer) -> Iterator[JupyterServer]:
    """Start the server for the block's duration."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


def new_notebook(server: JupyterServer, path: str) -> dict[str, Any]:
    """Create an empty notebook file and a session (kernel) for it."""
    with server.api() as api:
        nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        api.put(
            f"/api/contents/{path}", json={"type": "notebook", "content": nb}
        ).raise_for_status()
        body = {"path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}}
        response = api.post("/api/sessions", json=body)
        response.raise_for_status()
        return dict(response.json())


def save_notebook(server: JupyterServer, path: str, cells: list[tuple[str, str]]) -> None:
    """Save a notebook as JupyterLab does (nbformat 4.5, cells with ids) through the REST API.
    `cells` are (id, source) pairs; a source starting with "#" is a markdown cell."""

    def cell(cell_id: str, source: str) -> dict[str, Any]:
        if source.startswith("#"):
            return {"cell_type": "markdown", "id": cell_id, "source": source, "metadata": {}}
        code = {"outputs": [], "execution_count": None, "metadata": {}}
        return {"cell_type": "code", "id": cell_id, "source": source, **code}

    content = {
        "cells": [cell(cell_id, source) for cell_id, source in cells],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    with server.api() as api:
        body = {"type": "notebook", "format": "json", "content": content}
        api.put(f"/api/contents/{path}", json=body).raise_for_status()


class KernelSocket:
    """The kernel websocket as a frontend uses it (legacy JSON protocol)."""

    def __init__(self, server: JupyterServer, kernel_id: str) -> None:
        self.session = uuid.uuid4().hex
        url = server.url.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels"
        self.ws: ClientConnection = connect(
            f"{url}?session_id={self.session}",
            additional_headers={"Authorization": f"token {server.token}"},
        )

    def send_execute(
        self,
        code: str,
        cell_id: str,
        stop_on_error: bool = True,
        user_expressions: dict[str, str] | None = None,
    ) -> str:
        """Send an execute_request as JupyterLab does (metadata.cellId); returns its msg_id.
        `user_expressions` are evaluated after the cell; their values come in the reply."""
        msg_id = uuid.uuid4().hex
        self.ws.send(
            json.dumps(
                {
                    "channel": "shell",
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "session": self.session,
                        "username": "spoofed-header-user",  # must never become the student id
                        "version": "5.3",
                        "date": "",
                    },
                    "parent_header": {},
                    "metadata": {"cellId": cell_id, "deletedCells": [], "recordTiming": False},
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": user_expressions or {},
                        "allow_stdin": False,
                        "stop_on_error": stop_on_error,
                    },
                    "buffers": [],
                }
            )
        )
        return msg_id

    def replies(self, msg_ids: list[str], timeout_s: float = 60) -> dict[str, dict[str, Any]]:
        """Wait for the execute_reply of each msg_id."""
        found: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout_s
        while len(found) < len(msg_ids):
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            parent = msg.get("parent_header", {}).get("msg_id")
            if msg.get("msg_type") == "execute_reply" and parent in msg_ids:
                found[parent] = msg["content"]
        return found

    def run(self, code: str, cell_id: str) -> dict[str, Any]:
        """Run one cell and return its reply content."""
        msg_id = self.send_execute(code, cell_id)
        return self.replies([msg_id])[msg_id]

    def close(self) -> None:
        """Close the websocket."""
        self.ws.close()


def stored_events(deployment: Any, classroom_id: str) -> list[dict[str, Any]]:
    """Every event the ingest logged for the classroom, in log order."""

    async def fetch() -> list[dict[str, Any]]:
        connection = await asyncpg.connect(deployment.settings.store_url)
        try:
            rows = await connection.fetch(
                "SELECT payload::text FROM events WHERE classroom_id = $1 ORDER BY seq",
                classroom_id,
            )
        finally:
            await connection.close()
        return [json.loads(row[0]) for row in rows]

    return asyncio.run(fetch())
