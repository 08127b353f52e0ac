"""REST handlers for the student's frontend: monitoring status, the raise-hand toggle and the
answer to the classroom's research consent question."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web


class _MonitorHandler(ExtensionHandlerMixin, APIHandler):
    @property
    def monitor(self) -> Any:
        return self.settings["cell_monitor"]

    def _note_user(self) -> None:
        user = self.current_user
        if getattr(user, "username", None):
            self.monitor.last_user = user.username


class StatusHandler(_MonitorHandler):
    """GET /cell-monitor/status: monitoring on/off, connected or the cause, waiting, dropped."""

    @web.authenticated
    def get(self) -> None:
        """The monitoring status as JSON (the poll also tells that a JupyterLab is open)."""
        self._note_user()
        self.monitor.lab_seen()
        self.finish(json.dumps(self.monitor.status()))


class HelpHandler(_MonitorHandler):
    """POST /cell-monitor/help {"on": bool, "notebook_path"?: str}: raise or lower the hand."""

    @web.authenticated
    def post(self) -> None:
        """Emit help or help_stop."""
        self._note_user()
        body = self.get_json_body() or {}
        on = body.get("on")
        if not isinstance(on, bool):
            raise web.HTTPError(400, 'expected {"on": true|false}')
        path = body.get("notebook_path")
        self.monitor.raise_hand(on, path if isinstance(path, str) else None)
        self.finish(json.dumps(self.monitor.status()))


class ConsentHandler(_MonitorHandler):
    """POST /cell-monitor/consent {"research": bool}: the student's answer (a later one
    replaces it; false withdraws consent)."""

    @web.authenticated
    def post(self) -> None:
        """Emit a consent event."""
        self._note_user()
        body = self.get_json_body() or {}
        research = body.get("research")
        if not isinstance(research, bool):
            raise web.HTTPError(400, 'expected {"research": true|false}')
        self.monitor.answer_consent(research)
        self.finish(json.dumps(self.monitor.status()))
