"""Let a restarted ingest replica take its port back at once.

Under direct ingress (`cellmon_cli.serve_tuning`) Ray Serve 2.60 binds the replica's HTTP port
without SO_REUSEADDR. A replica killed while clients were connected leaves their connections in
TIME_WAIT on that port for a minute; its replacement then fails to bind, Serve marks the port
blocked for good and moves the replica to the next one, and clients of the public port are
refused until the cluster restarts (tests/e2e/test_crash_recovery.py caught this). So the
replica asks Serve's own server start for SO_REUSEADDR (with SO_REUSEPORT, its only switch).

This reaches into a private Ray module: if Ray moves it, nothing is patched, a warning is
logged, and that test fails.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("cellmon.ingest")


def allow_rebind_after_crash() -> None:
    """Patch this replica process (before Serve starts its direct-ingress server)."""
    try:
        from ray.serve._private import replica
    except ImportError:
        return
    original = getattr(replica, "start_asgi_http_server", None)
    if original is None:
        log.warning("Ray Serve has no start_asgi_http_server: replica ports not made reusable")
        return
    if getattr(original, "cellmon_rebind", False):
        return

    async def start(app: Any, http_options: Any, *, event_loop: Any, **_: Any) -> Any:
        return await original(app, http_options, event_loop=event_loop, enable_so_reuseport=True)

    start.cellmon_rebind = True  # type: ignore[attr-defined]
    setattr(replica, "start_asgi_http_server", start)  # noqa: B010 (a private, untyped name)
