"""The jupyter-server extension: settings, wiring of the capture seam, handlers, sender."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Enum, Float, Int, Type, Unicode, default

from jupyter_ext.cell_index import CellIndex
from jupyter_ext.connection import monitored_connection_class
from jupyter_ext.events import CodeMode, Identity
from jupyter_ext.handlers import ConsentHandler, HelpHandler, StatusHandler
from jupyter_ext.iopub import KERNEL_SCHEMA, IopubWatcher
from jupyter_ext.monitor import Monitor
from jupyter_ext.sender import Sender
from jupyter_ext.server_events import watch_saves, watch_sessions
from jupyter_ext.spool import Spool, default_spool_path


def _env(name: str, fallback: str = "") -> str:
    return os.environ.get(name, fallback)


class CellMonitorApp(ExtensionApp):
    """Cell Monitor: sends the student's cell runs, notebook events and help requests."""

    name = "jupyter_ext"
    load_other_extensions = True

    enabled = Bool(True, help="Capture and send events (CELLMON_ENABLED=0 turns it off).").tag(
        config=True
    )
    server_url = Unicode(help="Cell Monitor ingest base URL (env CELLMON_SERVER_URL).").tag(
        config=True
    )
    token = Unicode(help="The classroom's ingest token (env CELLMON_TOKEN).").tag(config=True)
    student_id = Unicode(
        help="Fixed student id for servers without per-user login (env CELLMON_STUDENT_ID). "
        "JupyterHub's JUPYTERHUB_USER wins; otherwise the server's authenticated user is used."
    ).tag(config=True)
    student_name = Unicode(help="Display name (env CELLMON_STUDENT_NAME).").tag(config=True)
    team = Unicode(help="Team name (env CELLMON_TEAM).").tag(config=True)
    batch_size = Int(help="Events per POST (env CELLMON_BATCH_SIZE, default 100).").tag(config=True)
    batch_interval = Float(
        help="Seconds between sends when fewer than a batch wait (env CELLMON_BATCH_INTERVAL)."
    ).tag(config=True)
    max_backoff = Float(
        help="Longest wait between retries while the ingest is unreachable, in seconds "
        "(env CELLMON_MAX_BACKOFF, default 60)."
    ).tag(config=True)
    token_recheck = Float(
        help="Seconds between re-checks while the ingest refuses the token (401/403); sending "
        "resumes by itself once it is accepted (env CELLMON_TOKEN_RECHECK, default 180)."
    ).tag(config=True)
    code_capture = Enum(
        ["full", "hash", "none"],
        help="What of the cell code is sent: full (bounded), hash (SHA-256) or none "
        "(env CELLMON_CODE_CAPTURE).",
    ).tag(config=True)
    spool_path = Unicode(
        help="SQLite spool file (env CELLMON_SPOOL_PATH; default in the Jupyter data dir)."
    ).tag(config=True)
    spool_max_events = Int(
        help="Spool bound; the oldest unsent events are dropped beyond it "
        "(env CELLMON_SPOOL_MAX_EVENTS, default 100000)."
    ).tag(config=True)
    heartbeat_interval = Float(
        help="Seconds between presence heartbeats while JupyterLab is open and nothing else was "
        "sent (env CELLMON_HEARTBEAT_INTERVAL, default 30)."
    ).tag(config=True)
    answer_poll_interval = Float(
        help="Seconds between polls for the instructor's answer while the hand is up "
        "(env CELLMON_ANSWER_POLL_INTERVAL, default 2)."
    ).tag(config=True)
    cell_index_max_bytes = Int(
        help="Notebooks larger than this are not read for cell indices (JupyterLab sends cell "
        "ids only), so reading never stalls the server (env CELLMON_CELL_INDEX_MAX_BYTES, "
        "default 20000000)."
    ).tag(config=True)
    sender_class = Type(Sender, klass=Sender, help="The class that delivers spooled events.").tag(
        config=True
    )

    @default("enabled")
    def _default_enabled(self) -> bool:
        return _env("CELLMON_ENABLED", "1").lower() not in ("0", "false", "no", "off")

    @default("server_url")
    def _default_server_url(self) -> str:
        return _env("CELLMON_SERVER_URL")

    @default("token")
    def _default_token(self) -> str:
        return _env("CELLMON_TOKEN")

    @default("student_id")
    def _default_student_id(self) -> str:
        return _env("JUPYTERHUB_USER") or _env("CELLMON_STUDENT_ID")

    @default("student_name")
    def _default_student_name(self) -> str:
        return _env("CELLMON_STUDENT_NAME")

    @default("team")
    def _default_team(self) -> str:
        return _env("CELLMON_TEAM")

    @default("batch_size")
    def _default_batch_size(self) -> int:
        return int(_env("CELLMON_BATCH_SIZE", "100"))

    @default("batch_interval")
    def _default_batch_interval(self) -> float:
        return float(_env("CELLMON_BATCH_INTERVAL", "1.0"))

    @default("max_backoff")
    def _default_max_backoff(self) -> float:
        return float(_env("CELLMON_MAX_BACKOFF", "60"))

    @default("token_recheck")
    def _default_token_recheck(self) -> float:
        return float(_env("CELLMON_TOKEN_RECHECK", "180"))

    @default("code_capture")
    def _default_code_capture(self) -> str:
        return _env("CELLMON_CODE_CAPTURE", "full")

    @default("spool_path")
    def _default_spool_path(self) -> str:
        return _env("CELLMON_SPOOL_PATH") or str(default_spool_path())

    @default("spool_max_events")
    def _default_spool_max_events(self) -> int:
        return int(_env("CELLMON_SPOOL_MAX_EVENTS", "100000"))

    @default("heartbeat_interval")
    def _default_heartbeat_interval(self) -> float:
        return float(_env("CELLMON_HEARTBEAT_INTERVAL", "30"))

    @default("answer_poll_interval")
    def _default_answer_poll_interval(self) -> float:
        return float(_env("CELLMON_ANSWER_POLL_INTERVAL", "2"))

    @default("cell_index_max_bytes")
    def _default_cell_index_max_bytes(self) -> int:
        return int(_env("CELLMON_CELL_INDEX_MAX_BYTES", "20000000"))

    iopub: IopubWatcher | None = None

    def initialize_settings(self) -> None:
        """Build spool, sender and monitor; install the capture seam and event hooks."""
        hub_user = _env("JUPYTERHUB_USER")
        serverapp = self.serverapp
        assert serverapp is not None  # set by jupyter-server before it calls this
        spool = Spool(Path(self.spool_path), self.spool_max_events)
        self.sender = self.sender_class(
            spool,
            self.server_url,
            self.token,
            batch_size=self.batch_size,
            interval_s=self.batch_interval,
            max_backoff_s=self.max_backoff,
            token_recheck_s=self.token_recheck,
        )
        monitor = Monitor(
            spool=spool,
            sender=self.sender,
            identity=Identity(
                hub_user or self.student_id, self.student_name or None, self.team or None
            ),
            code_mode=cast(CodeMode, self.code_capture),
            session_manager=serverapp.session_manager,
            cell_index=CellIndex(serverapp.contents_manager, max_bytes=self.cell_index_max_bytes),
            enabled=self.enabled and bool(self.server_url),
            heartbeat_s=self.heartbeat_interval,
            poll_s=self.answer_poll_interval,
        )
        self.monitor = monitor
        self.settings["cell_monitor"] = monitor
        if not monitor.enabled:
            self.log.warning("Cell Monitor is off: set CELLMON_SERVER_URL and CELLMON_TOKEN")
            return
        # `self.settings` is a copy of the web app's settings that is written back after this
        # method: replace the connection class there, or the write-back undoes it.
        base = self.settings["kernel_websocket_connection_class"]
        self.settings["kernel_websocket_connection_class"] = monitored_connection_class(
            base, monitor
        )
        watch_sessions(serverapp.session_manager, monitor)
        watch_saves(serverapp.event_logger, monitor)
        kernels = serverapp.kernel_manager
        if hasattr(kernels, "connect_iopub") and serverapp.event_logger is not None:
            # Local kernels (not a gateway): also watch iopub for clients without a websocket.
            self.iopub = IopubWatcher(kernels, monitor)
            serverapp.event_logger.add_listener(
                schema_id=KERNEL_SCHEMA, listener=self.iopub.on_kernel_action
            )
        self.log.info(
            "Cell Monitor: sending to %s, code capture %s, spool %s (%d waiting)",
            self.server_url,
            self.code_capture,
            self.spool_path,
            spool.count(),
        )

    def initialize_handlers(self) -> None:
        """Register the status, help and consent endpoints."""
        self.handlers.extend(
            [
                (r"/cell-monitor/status", StatusHandler),
                (r"/cell-monitor/help", HelpHandler),
                (r"/cell-monitor/consent", ConsentHandler),
            ]
        )

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Start sending once the server's event loop runs (events spooled earlier go first)."""
        if self.monitor.enabled:
            self.sender.start()
            self.monitor.start_presence()

    async def stop_extension(self) -> None:
        """Stop the sender; unsent events stay in the spool for the next start."""
        if self.iopub is not None:
            self.iopub.close()
        await self.monitor.stop_presence()
        await self.sender.stop()
        self.monitor.spool.close()
