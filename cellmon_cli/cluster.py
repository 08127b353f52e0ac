"""Start, find and stop this machine's Cell Monitor cluster (`cellmon up` / `status` / `down`).

`up` runs `ray start --head --block` in its own session and remembers its pid: `down` stops
exactly that cluster, never other Ray clusters on the machine (no `ray stop`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from actors.runtime.attach import attach, require_token_auth
from cellmon.settings import Settings
from cellmon_cli.serve_tuning import apply_serve_environment, serve_environment


def run_file(settings: Settings) -> Path:
    """Where `up` records the running cluster."""
    return settings.state_dir / "cluster.json"


def running(settings: Settings) -> dict[str, Any] | None:
    """The recorded cluster if its head process is still alive."""
    path = run_file(settings)
    if not path.exists():
        return None
    info: dict[str, Any] = json.loads(path.read_text())
    return info if _alive(info["pid"]) else None


def start_head(settings: Settings) -> dict[str, Any]:
    """Start a Ray head for this project and wait until it accepts drivers."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    ray_bin = Path(sys.executable).with_name("ray")
    require_token_auth()
    log = (settings.state_dir / "ray-head.log").open("ab")
    process = subprocess.Popen(
        [
            str(ray_bin),
            "start",
            "--head",
            f"--port={settings.ray_port}",
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={settings.num_cpus}",
            "--include-dashboard=false",
            "--disable-usage-stats",
            "--block",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # Everything acknowledged is already in the event log: `down` need not wait 30 s for
        # Ray to drain the node.
        env={
            **os.environ,
            "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "3",
            **serve_environment(settings),
        },
    )
    info = {
        "pid": process.pid,
        "ray_address": f"127.0.0.1:{settings.ray_port}",
        "http_url": f"http://{settings.http_host}:{settings.http_port}",
    }
    run_file(settings).write_text(json.dumps(info))
    return info


def connect(settings: Settings, address: str | None = None) -> None:
    """Attach this process to the cluster as a driver, with Serve's tuning (read at import)."""
    apply_serve_environment(settings)
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        return  # already a driver (a test, a notebook that attached itself): stays as it is
    target = address or settings.ray_address or _recorded_address(settings)
    attach(target, settings.namespace)


@contextmanager
def own_cluster(settings: Settings, resources: dict[str, float] | None = None) -> Iterator[str]:
    """A new local Ray cluster for this process alone (tests, benchmarks), tuned as `up` tunes
    its head, stopped by its own handle at the end (never `ray stop`); yields its address.
    `resources`: custom resources of its head node (a label a test can schedule by)."""
    if "ray" not in sys.modules:  # Ray reads the auth mode once, at import: keep it consistent
        require_token_auth()
    apply_serve_environment(settings)  # the cluster's processes inherit it
    import ray
    from ray import serve

    # address="local": always a new cluster of our own, even if another runs on the machine.
    ray.init(
        address="local",
        num_cpus=settings.num_cpus,
        resources=resources,
        include_dashboard=False,
        namespace=settings.namespace,
        log_to_driver=False,
    )
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        serve.shutdown()  # type: ignore[no-untyped-call]
        ray.shutdown()


def stop_head(settings: Settings, timeout_s: float = 60) -> bool:
    """Stop the recorded head (SIGTERM, then SIGKILL of its group); True if one was running."""
    info = running(settings)
    run_file(settings).unlink(missing_ok=True)
    if info is None:
        return False
    pid = info["pid"]
    os.kill(pid, signal.SIGTERM)  # Ray drains, then stops the processes it started
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)
    return True


def wait_then_stop(settings: Settings) -> None:
    """Block until the head exits or this process is asked to stop (Ctrl-C, SIGTERM)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while running(settings):
            time.sleep(1)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stop_head(settings)


def _recorded_address(settings: Settings) -> str:
    info = running(settings)
    if info is None:
        raise SystemExit("Cell Monitor is not running here: start it with `cellmon up`")
    address: str = info["ray_address"]
    return address


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _proc_state(pid)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"
