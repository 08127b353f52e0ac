"""Dashboard server CPU per open tab: Streamlit's default (a full gc.collect() after every script
run) against Cell Monitor's server options, in the same run, same browser, same fake class.

Each tab is an instructor's overview of the 30-student class: the 2 s live panel and the 0.25 s
help-alert poll. The server's CPU is read from /proc over a quiet window with 1, 2 and 3 tabs open.

Usage: .venv/bin/python -m benchmarks.dashboard_tabs [--window 10]
Needs /usr/bin/chromium (make chromium) and the [dashboard,dev] extras.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from playwright.sync_api import sync_playwright

from benchmarks.proc_cpu import cpu_seconds
from tests.browser.dashboard_support import CHROMIUM, CHROMIUM_ARGS, login, streamlit_process

OURS = "--runner.postScriptGC=false"
STREAMLIT_DEFAULT = "--runner.postScriptGC=true"
TABS = (1, 2, 3)


def _cores_per_tab_count(browser: Any, gc_option: str, window_s: float) -> dict[int, float]:
    """Server cores used with 1, 2, 3 overview tabs open."""
    cores: dict[int, float] = {}
    with streamlit_process(overrides=(gc_option,)) as (url, proc):
        pid = proc.pid
        pages = []
        for n in TABS:
            page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
            login(page, url)
            pages.append(page)
            time.sleep(3)  # past the first render
            cpu0, t0 = cpu_seconds(pid), time.monotonic()
            time.sleep(window_s)
            cores[n] = round((cpu_seconds(pid) - cpu0) / (time.monotonic() - t0), 3)
        for page in pages:
            page.context.close()
    return cores


def main(window_s: float) -> dict[str, Any]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        default = _cores_per_tab_count(browser, STREAMLIT_DEFAULT, window_s)
        ours = _cores_per_tab_count(browser, OURS, window_s)
        browser.close()
    return {
        "window_s": window_s,
        "server_cores": {"streamlit_default": default, "cell_monitor": ours},
        "ratio_ours_over_default": {n: round(ours[n] / default[n], 2) for n in TABS},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=10.0)
    print(json.dumps(main(parser.parse_args().window), indent=2))
