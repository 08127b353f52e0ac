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
import random
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
        # Ingest POSTs are answered ahead of Serve's per-request work (serve_app.front_door).
        "RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH": "serve_app.front_door.middlewares",
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
    """A TCP port on `host` that nothing listens on right now, chosen where nothing else will
    take it before we listen: above Ray's worker ports (10002-19999) and below the kernel's
    ephemeral range, from which every outgoing connection takes a port (a cluster starting
    opens hundreds; a port from `bind(0)` was once taken that way before Serve bound it)."""
    low = _ephemeral_low()
    if low > _OURS_FROM + 500:
        rng = random.SystemRandom()
        for _ in range(200):
            port = rng.randrange(_OURS_FROM, low - _SERVE_SPAN)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind((host, port))
                except OSError:
                    continue
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        chosen: int = sock.getsockname()[1]
        return chosen


_OURS_FROM = 20_000  # above Ray's default worker ports
_SERVE_SPAN = 16  # Serve gives the replicas on a node the ports from ours up


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (Linux), else IANA's."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as found:
            return int(found.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 49_152
