"""How Ray Serve is tuned for the ingest: the environment its processes must start with.

Measured here (BENCHMARKS.md): Serve's default path, client -> HTTP proxy actor -> replica,
spends most of a request's CPU in the extra hop. With `RAY_SERVE_THROUGHPUT_OPTIMIZED=1`
the ingest replica serves HTTP itself ("direct ingress"); Serve picks each replica's port
from a range, so the range starts at our public port: the first ingest replica on a node
answers on `http_port`, and Serve's own proxy moves to `proxy_port`. A restarted replica
must get that port back at once, so Serve's port quarantine is off.

Serve reads these variables when its modules are imported, in every process: the head (and
so every worker) must start with them, and so must a driver before it imports `ray.serve`.
"""

from __future__ import annotations

import os
import socket

from cellmon.settings import Settings

DIRECT_PORTS = 8


def serve_environment(settings: Settings) -> dict[str, str]:
    """The variables for `settings`; empty when direct ingress is off (Serve's defaults)."""
    if not settings.direct_ingress:
        return {}
    return {
        "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
        "RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT": str(settings.http_port),
        # Every ingress replica on a node (ours, and other Serve apps') takes a port from the
        # range, lowest free first; ours starts first, so clients use the first.
        "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT": str(settings.http_port + DIRECT_PORTS),
        "RAY_SERVE_PORT_QUARANTINE_S": "0",
        # Serve keeps a stopping direct-ingress replica for 30 s so a load balancer can stop
        # sending to it; clients of the ingest retry instead, and `down` should not wait.
        "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "2",
    }


def apply_serve_environment(settings: Settings) -> None:
    """Set the variables in this process (call before `ray` or `ray.serve` is imported)."""
    os.environ.update(serve_environment(settings))


def proxy_port(settings: Settings) -> int:
    """Where Serve's HTTP proxy listens: the public port without direct ingress, else
    `settings.proxy_port` or, when unset, a free port."""
    if not settings.direct_ingress:
        return settings.http_port
    return settings.proxy_port or free_port(settings.http_host)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
