"""Fallback capture on each kernel's output (iopub) channel, for clients that bypass the
websocket (e.g. a script using the kernel's connection file). Runs the websocket already saw
are skipped by request id, and both paths derive the same event id, so nothing counts twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jupyter_server import JUPYTER_SERVER_EVENTS_URI

from jupyter_ext import events
from jupyter_ext.monitor import Monitor

log = logging.getLogger(__name__)
KERNEL_SCHEMA = JUPYTER_SERVER_EVENTS_URI + "/kernel_actions/v1"


@dataclass
class _Run:
    code: str
    execution_count: int | None
    error: tuple[str | None, str | None] | None = None


class IopubWatcher:
    """Subscribes to every kernel's iopub; emits cell runs nobody saw on a websocket."""

    def __init__(self, kernel_manager: Any, monitor: Monitor) -> None:
        self.kernels, self.monitor = kernel_manager, monitor
        self._streams: dict[str, Any] = {}
        self._runs: dict[tuple[str, str], _Run] = {}
        # Own busy times: the websocket observer pops the monitor's table at the same idle.
        self._busy: dict[tuple[str, str], datetime] = {}

    async def on_kernel_action(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        """Event-bus listener: watch kernels as they start, forget them at shutdown."""
        kernel_id, action = data.get("kernel_id"), data.get("action")
        if not kernel_id or data.get("status") != "success":
            return
        if action == "start" and kernel_id not in self._streams:
            self.watch(kernel_id)
        elif action == "shutdown" and kernel_id in self._streams:
            self._streams.pop(kernel_id).close()

    def watch(self, kernel_id: str) -> None:
        """Subscribe to one kernel's iopub channel."""
        stream = self.kernels.connect_iopub(kernel_id)
        session = self.kernels.get_kernel(kernel_id).session
        stream.on_recv(lambda parts: self._safely(kernel_id, session, parts))
        self._streams[kernel_id] = stream

    def close(self) -> None:
        """Close every subscription."""
        for stream in self._streams.values():
            stream.close()
        self._streams.clear()

    def _safely(self, kernel_id: str, session: Any, parts: list[Any]) -> None:
        try:
            self._on_message(kernel_id, session, parts)
        except Exception:
            log.exception("cell monitor: cannot read an iopub message")

    def _on_message(self, kernel_id: str, session: Any, parts: list[Any]) -> None:
        # Unpack, never `deserialize`: see connection.py ("Duplicate Signature").
        _, fed = session.feed_identities(parts, copy=True)
        if len(fed) < 5:
            return
        header = session.unpack(fed[1])
        kind = header.get("msg_type")
        if kind not in ("execute_input", "error", "status"):
            return
        parent = str(session.unpack(fed[2]).get("msg_id", ""))
        content = session.unpack(fed[4])
        key = (kernel_id, parent)
        if self.monitor.knows(kernel_id, parent):
            self._runs.pop(key, None)
            self._busy.pop(key, None)
            return
        if kind == "status":
            state = content.get("execution_state")
            # The kernel stamps its messages: busy->idle header dates are kernel-side time.
            stamp = events.parse_time(header.get("date"))
            if state == "busy" and stamp is not None:
                self._busy[key] = stamp
            elif state == "idle":
                started = self._busy.pop(key, None)
                run = self._runs.pop(key, None)
                if run is not None:
                    elapsed = None
                    if started is not None and stamp is not None:
                        elapsed = round((stamp - started).total_seconds() * 1000, 3)
                    self._finish(kernel_id, parent, run, elapsed)
        elif kind == "execute_input":
            count = content.get("execution_count")
            self._runs[key] = _Run(str(content.get("code", "")), count)
        elif kind == "error" and key in self._runs:
            self._runs[key].error = (content.get("ename"), content.get("evalue"))

    def _finish(self, kernel_id: str, msg_id: str, run: _Run, elapsed: float | None) -> None:
        request = events.ExecuteRequest(msg_id=msg_id, code=run.code)
        self.monitor.add_request(kernel_id, request)
        name, value = run.error or (None, None)
        self.monitor.on_reply(
            kernel_id,
            {
                "header": {"msg_type": "execute_reply"},
                "parent_header": {"msg_id": msg_id},
                "metadata": {},  # no reply here: the busy->idle time stands in for run time
                "content": {
                    "status": "error" if run.error else "ok",
                    "execution_count": run.execution_count,
                    "ename": name,
                    "evalue": value,
                },
            },
            fallback_ms=elapsed,
        )
