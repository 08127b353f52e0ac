"""Let ingest replicas bind the public port: a restarted one at once, a second one beside
the first.

Under direct ingress (`cellmon_cli.serve_tuning`) Ray Serve 2.60 binds the replica's HTTP port
without SO_REUSEADDR. A replica killed while clients were connected leaves their connections in
TIME_WAIT on that port for a minute; its replacement then fails to bind, Serve marks the port
blocked for good and moves the replica to the next one, and clients of the public port are
refused until the cluster restarts (tests/e2e/test_crash_recovery.py caught this). So the
replica asks Serve's own server start for SO_REUSEADDR (with SO_REUSEPORT, its only switch).

Serve gives each direct-ingress replica on a node a port of its own (the next in the range),
for a load balancer in front; our clients know one port. So a second replica on the node binds
the public port too, and with SO_REUSEPORT the kernel shares new connections between them:
an added replica takes load without a balancer (tests/cluster/test_ingest_scaling.py). Only
the app named `PUBLIC_APP` does: other Serve apps of the cluster (behind Serve's proxy, at a
route prefix) keep the ports Serve gives them.

This reaches into a private Ray module: if Ray moves it, nothing is patched, a warning is
logged, and that test fails.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("cellmon.ingest")


def allow_rebind_after_crash(public_port: int | None = None) -> None:
    """Patch this replica process (before Serve starts its direct-ingress server). With
    `public_port`, a replica Serve gives another port binds that one instead, beside the
    others: only the app that owns the public port may pass it, or another app's replicas
    would take its clients' connections."""
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
        if public_port and http_options.port != public_port:  # a second replica: share it
            http_options = http_options.copy(update={"port": public_port})
        return await original(app, http_options, event_loop=event_loop, enable_so_reuseport=True)

    start.cellmon_rebind = True  # type: ignore[attr-defined]
    setattr(replica, "start_asgi_http_server", start)  # noqa: B010 (a private, untyped name)
