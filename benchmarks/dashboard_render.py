"""Class overview render time in Chromium: the 1,000-student class against the 30-student class
in the same run, same server, same browser (the baseline), plus the actors' snapshot cost.

Usage: .venv/bin/python -m benchmarks.dashboard_render [--runs 5]
Needs /usr/bin/chromium (make chromium) and the [dashboard,dev] extras.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import sync_playwright

from tests.browser.dashboard_support import CHROMIUM, CHROMIUM_ARGS, streamlit_server

CLASSES = {"ds101": 30, "lecture": 1000}  # the simulated backend's classrooms


def _render_once(browser: Any, url: str, classroom: str, students: int) -> float:
    """Seconds from the sign-in click until the cards, the team cards and the table show."""
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    page.goto(f"{url}/?classroom={classroom}")
    page.get_by_role("textbox", name="Email").fill("teacher@example.edu")
    page.get_by_role("textbox", name="Password").fill("cellmon")
    started = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    page.locator('[data-testid="stMetricValue"]', has_text=f"{students:,}").wait_for()
    page.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible")
    page.locator(".cm-teams").wait_for(state="visible")
    elapsed = time.perf_counter() - started
    page.context.close()
    return elapsed


def _snapshot_cost(students: int, runs: int = 20) -> float:
    """Median seconds for one classroom snapshot of `students` on the actor side (in-process)."""
    from pydantic import TypeAdapter

    from actors.domain.classroom import ClassroomActor
    from cellmon.contract import Event

    adapter: TypeAdapter[Any] = TypeAdapter(Event)
    now = datetime.now(UTC)
    room = ClassroomActor("bench")
    room.apply_batch(
        [
            adapter.validate_python(
                {
                    "type": "cell_executed",
                    "event_id": f"e{n}",
                    "classroom_id": "bench",
                    "student_id": f"s{n % students}",
                    "team": f"T{n % students // 5}",
                    "time": now - timedelta(seconds=n % 600),
                    "received_at": now,
                    "status": "error" if n % 7 == 0 else "ok",
                    "cell_id": f"c{n % 12}",
                    "cell_index": n % 12,
                }
            )
            for n in range(students * 12)
        ]
    )
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        room.snapshot(now)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(runs: int) -> dict[str, Any]:
    """Interleaved runs of both classes; medians and their ratio."""
    results: dict[str, list[float]] = {name: [] for name in CLASSES}
    with streamlit_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Warm-up: the first page load compiles the app, and each simulated class is built on
        # its first look (a few seconds for 1,000 students), which no instructor would wait for.
        for classroom, students in CLASSES.items():
            _render_once(browser, url, classroom, students)
        for _ in range(runs):
            for classroom, students in CLASSES.items():
                results[classroom].append(_render_once(browser, url, classroom, students))
        browser.close()
    medians = {c: round(statistics.median(t), 2) for c, t in results.items()}
    return {
        "render_s": {c: [round(x, 2) for x in t] for c, t in results.items()},
        "median_s": medians,
        "ratio_1000_over_30": round(medians["lecture"] / medians["ds101"], 2),
        "snapshot_ms": {n: round(_snapshot_cost(n) * 1000, 1) for n in (30, 1000)},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    print(json.dumps(main(parser.parse_args().runs), indent=2))
