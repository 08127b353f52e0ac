"""Run the Streamlit dashboard next to the cluster (`cellmon demo` / `cellmon dashboard`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cellmon.settings import Settings

APP = Path(__file__).resolve().parent.parent / "streamlit_dashboard" / "app.py"


# Every tab polls the alert feed four times a second; Streamlit's default full gc.collect() after
# each script run made one open tab cost most of a core (BENCHMARKS.md). Python's own GC still runs.
SERVER_OPTIONS = (
    "--server.headless=true",
    "--server.fileWatcherType=none",
    "--runner.postScriptGC=false",
    "--browser.gatherUsageStats=false",
    "--client.toolbarMode=minimal",
)


def streamlit_command(port: int, overrides: tuple[str, ...] = ()) -> list[str]:
    """The dashboard server on 127.0.0.1:`port`, as `cellmon` and the browser tests start it;
    `overrides` replace options of the same name (a benchmark's baseline)."""
    replaced = {o.split("=", 1)[0] for o in overrides}
    options = [o for o in SERVER_OPTIONS if o.split("=", 1)[0] not in replaced]
    run = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address=127.0.0.1"]
    return [*run, f"--server.port={port}", *options, *overrides]


def _pid_file(settings: Settings) -> Path:
    return settings.state_dir / "dashboard.pid"


def start_dashboard(settings: Settings, ray_address: str, port: int = 8501) -> str:
    """Start Streamlit on 127.0.0.1:`port` unless it already answers; returns its URL. It
    reads the cluster at `ray_address` and the accounts in `settings.store_url`."""
    url = f"http://127.0.0.1:{port}"
    if _answers(url):
        return url
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    log = (settings.state_dir / "dashboard.log").open("ab")
    process = subprocess.Popen(
        streamlit_command(port),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={
            **os.environ,
            "CELLMON_STATE_DIR": str(settings.state_dir.resolve()),
            "CELLMON_RAY_ADDRESS": ray_address,
            "CELLMON_STORE_URL": settings.store_url,
            "CELLMON_ALERTS_URL": settings.alerts_url,  # an embedded Redis, perhaps
            "CELLMON_NAMESPACE": settings.namespace,
        },
    )
    _pid_file(settings).write_text(str(process.pid))
    deadline = time.monotonic() + 60
    while not _answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"the dashboard did not start; see {settings.state_dir}/dashboard.log"
            )
        time.sleep(0.5)
    return url


def stop_dashboard(settings: Settings) -> bool:
    """Stop the dashboard this project started; True if one was running."""
    path = _pid_file(settings)
    if not path.exists():
        return False
    pid = int(path.read_text())
    path.unlink()
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
