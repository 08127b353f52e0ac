"""The capture seam: a kernel websocket connection that shows every message to the monitor."""

from __future__ import annotations

import json
import logging
from typing import Any

from jupyter_server.services.kernels.connection.base import (
    deserialize_binary_message,
    deserialize_msg_from_ws_v1,
)
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

from jupyter_ext.monitor import Monitor

log = logging.getLogger(__name__)
_V1 = "v1.kernel.websocket.jupyter.org"


def monitored_connection_class(base: type[Any], monitor: Monitor) -> type[Any]:
    """A subclass of the server's connection class that reports to `monitor`."""
    if not issubclass(base, ZMQChannelsWebsocketConnection):
        log.warning("cell monitor: %s is not a ZMQ connection; capture is off", base)
        return base

    class MonitoredConnection(base):  # type: ignore[misc]
        """Forwards every frame unchanged; observing can never break the student's kernel."""

        def handle_incoming_message(self, incoming_msg: Any) -> None:
            try:
                msg = _incoming(self, incoming_msg)
                if msg is not None:
                    monitor.on_request(self.kernel_id, msg, _username(self))
            except Exception:
                log.exception("cell monitor: cannot read an incoming kernel message")
            super().handle_incoming_message(incoming_msg)

        def handle_outgoing_message(self, stream: Any, outgoing_msg: list[Any]) -> None:
            try:
                _outgoing(self, monitor, stream, outgoing_msg)
            except Exception:
                log.exception("cell monitor: cannot read an outgoing kernel message")
            super().handle_outgoing_message(stream, outgoing_msg)

    MonitoredConnection.__name__ = f"Monitored{base.__name__}"
    return MonitoredConnection


def _incoming(conn: Any, ws_msg: Any) -> dict[str, Any] | None:
    """The execute_request among the frontend's messages, as a dict; None for anything else."""
    if conn.subprotocol == _V1:
        channel, parts = deserialize_msg_from_ws_v1(ws_msg)  # type: ignore[no-untyped-call]
        if channel != "shell" or len(parts) < 4:
            return None
        header = conn.session.unpack(parts[0])
        if header.get("msg_type") != "execute_request":
            return None
        return {
            "header": header,
            "metadata": conn.session.unpack(parts[2]),
            "content": conn.session.unpack(parts[3]),
        }
    if isinstance(ws_msg, bytes):
        msg = deserialize_binary_message(ws_msg)  # type: ignore[no-untyped-call]
    else:
        msg = json.loads(ws_msg)
    if msg.get("channel", "shell") != "shell":
        return None
    return dict(msg)


def _outgoing(conn: Any, monitor: Monitor, stream: Any, msg_list: list[Any]) -> None:
    """Reads replies and iopub status. Unpack only: `deserialize` here would record the
    signature and make the server's own check fail with "Duplicate Signature"."""
    channel = stream if isinstance(stream, str) else getattr(stream, "channel", None)
    if channel not in ("shell", "iopub"):
        return
    _, fed = conn.session.feed_identities(msg_list, copy=True)
    parts = [p.bytes if hasattr(p, "bytes") else p for p in fed[1:5]]
    if len(parts) < 4:
        return
    header = conn.session.unpack(parts[0])
    kind = header.get("msg_type")
    if channel == "iopub" and kind == "status":
        parent = conn.session.unpack(parts[1])
        state = conn.session.unpack(parts[3]).get("execution_state", "")
        monitor.on_status(conn.kernel_id, str(parent.get("msg_id", "")), state)
    elif channel == "shell" and kind == "execute_reply":
        monitor.on_reply(
            conn.kernel_id,
            {
                "header": header,
                "parent_header": conn.session.unpack(parts[1]),
                "metadata": conn.session.unpack(parts[2]),
                "content": conn.session.unpack(parts[3]),
            },
        )


def _username(conn: Any) -> str | None:
    """The server's authenticated user for this websocket (never the message header)."""
    user = getattr(conn.websocket_handler, "current_user", None)
    return getattr(user, "username", None) or None
