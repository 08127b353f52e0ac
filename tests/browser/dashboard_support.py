"""Helpers for the dashboard browser tests: run Streamlit on a free port, drive Chromium."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chromium import CHROMIUM as CHROMIUM  # re-exported for the dashboard tests
from chromium import CHROMIUM_ARGS as HEADLESS_ARGS

from cellmon_cli.dashboard_process import streamlit_command
from cellmon_cli.serve_tuning import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [*HEADLESS_ARGS, "--autoplay-policy=no-user-gesture-required"]
EMAIL, PASSWORD = "teacher@example.edu", "cellmon"


@contextmanager
def streamlit_process(
    env: dict[str, str] | None = None, timeout_s: float = 60, overrides: tuple[str, ...] = ()
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run the dashboard with the fake backend; yields its base URL and its process."""
    port = free_port()
    cmd = streamlit_command(port, overrides)
    full_env = {**os.environ, "CELLMON_DASHBOARD_FAKE": "1", **(env or {})}
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / f"streamlit-{port}.log").open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start; see {log.name}") from None
                time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()  # only the process this helper started
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def streamlit_server(env: dict[str, str] | None = None, timeout_s: float = 60) -> Iterator[str]:
    """Run the dashboard with the fake backend; yields its base URL."""
    with streamlit_process(env, timeout_s) as (url, _):
        yield url


def login(
    page: Any, url: str, email: str = EMAIL, password: str = PASSWORD, wait_for: str = "Help needed"
) -> None:
    """Open the dashboard and sign in through the form."""
    page.goto(url)
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(wait_for).first.wait_for(timeout=30_000)


def wait_quiet(page: Any, ms: int = 800) -> None:
    """Give Streamlit's reruns and charts a moment to settle before a screenshot."""
    page.wait_for_timeout(ms)
