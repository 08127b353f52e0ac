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

from cellmon_cli.dashboard_process import streamlit_command
from cellmon_cli.serve_tuning import free_port
from tests.browser.chromium import CHROMIUM as CHROMIUM  # re-exported for the dashboard tests
from tests.browser.chromium import CHROMIUM_ARGS as HEADLESS_ARGS
from tests.support.waiting import wait_until

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

        def healthy() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited; see {log.name}")
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read()
            except OSError:
                return False
            return True

        wait_until(healthy, timeout_s, f"streamlit to start (see {log.name})")
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
    page: Any,
    url: str | None,
    email: str = EMAIL,
    password: str = PASSWORD,
    wait_for: str = "Help needed",
) -> None:
    """Open the dashboard (None: stay on the page's URL, a bookmark) and sign in."""
    if url is not None:
        page.goto(url)
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(wait_for).first.wait_for(timeout=30_000)


def open_first_row(page: Any) -> None:
    """Click the first row's selection cell; retried, as the 2 s refresh may redraw the grid."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    for _ in range(3):
        grid.scroll_into_view_if_needed()  # a click outside the viewport lands nowhere
        box = grid.bounding_box()
        assert box is not None
        y = box["y"] + 35 + 17  # header row, then half a data row
        page.mouse.move(box["x"] + 60, y)
        page.mouse.click(box["x"] + 12, y)  # the row-selection column
        try:
            page.get_by_text("Latest code").wait_for(timeout=8_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError("clicking a student row did not open the student")


# Only the charts: with the alert poll rerunning every 0.25 s, a loaded machine may show no
# moment at which no script runs at all.
SETTLED = """(least) => {
  const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
  return charts.length >= least && charts.every(c => c.querySelector('canvas, svg') !== null);
}"""


def wait_quiet(page: Any, charts: int = 0, timeout_ms: int = 30_000) -> None:
    """Wait until every chart on the page, and at least `charts` of them, has drawn (before a
    screenshot, or a measurement that must start after the first render)."""
    page.wait_for_function(SETTLED, arg=charts, timeout=timeout_ms)


class Console:
    """A dashboard page's console errors and uncaught page errors, appended to
    test-artifacts/dashboard-console.log. Any of them fails the test: a 'Bad delta path' there
    is Streamlit's frontend giving up, which the instructor sees as a white page."""

    watched: list[Console] = []  # every page of the running test

    def __init__(self, page: Any, elsewhere: str = "") -> None:
        self.errors: list[str] = []
        self.page = page
        self.elsewhere = elsewhere  # another site's pages (a sign-in provider): logged only
        page.on("console", lambda m: self._keep(m.type, m.text))
        page.on("pageerror", lambda e: self._keep("pageerror", str(e)))
        Console.watched.append(self)

    def _keep(self, kind: str, text: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        with (ARTIFACTS / "dashboard-console.log").open("a") as out:
            out.write(f"{time.strftime('%H:%M:%S')} {self.page.url} {kind}: {text}\n")
        if kind in ("error", "pageerror") and not (
            self.elsewhere and self.page.url.startswith(self.elsewhere)
        ):
            self.errors.append(f"{kind}: {text}")

    @classmethod
    def check_and_forget(cls) -> list[str]:
        """Errors of every watched page since the last call."""
        errors = [e for console in cls.watched for e in console.errors]
        cls.watched.clear()
        return errors


def watched(page: Any, elsewhere: str = "") -> Any:
    """The page, its console errors now fatal to the running test, except while it shows
    pages of the site at `elsewhere` (a URL prefix)."""
    Console(page, elsewhere)
    return page
