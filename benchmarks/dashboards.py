"""Ten instructors' dashboards on one 200-student class (the existing system's headline), on the
real stack: Ray + Serve + shards writing PostgreSQL, Redis alerts, Streamlit on the Ray backend,
and ten Chromium tabs signed in to the class overview.

The class runs at the existing system's pace (`cellmon loadtest`'s classroom profile, with its
probes: freshness through the classroom API the dashboards read, and help alerts through Redis),
first with no dashboard open (the baseline), then with each count of tabs (1, then 10). While
tabs are open, a probe student also raises a hand every few seconds, and each tab notes when
their name enters its page, and when its help banner holds it (all tabs watched at once, by
the machine's clock): the toast names a hand at once, the banner after the redraw. The alert
is also timed to the class's Redis channel, so the stack's part is told from the dashboard's.
CPU of the dashboard server, of Chromium, and of the ingest and shard processes comes from /proc
over each phase. Chromium runs on the same two cores as everything else here: in a real class each
instructor's browser is on their own machine, so its CPU is reported, not a target.

Usage: .venv/bin/python -m benchmarks.dashboards [--tabs 1 10] [--students 200] [--seconds 45]
Needs /usr/bin/chromium (make chromium), InfluxDB (make influxdb) and the [dashboard,dev] extras.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import redis
from playwright.sync_api import sync_playwright

from actors.adapters import accounts
from benchmarks.ingest import classrooms
from benchmarks.proc_cpu import cpu_by_command
from cellmon.views import alert_channel
from cellmon_cli import stack
from cellmon_cli.cluster import own_cluster
from cellmon_cli.loadtest import LoadPlan, Target, run_load
from cellmon_cli.loadtest.stats import spread
from tests.browser.dashboard_support import CHROMIUM, CHROMIUM_ARGS, login, streamlit_process
from tests.e2e.deployment import bearer, own_settings
from tests.support.fixtures import temporary_database

EMAIL, PASSWORD = "bench@example.edu", "a bench of ten instructors"
HAND_EVERY_S = 4.0  # a probe student's raised hand, while the tabs are open
PROCESSES = {  # what /proc's command lines are summed as, per phase
    "dashboard server": "streamlit",
    "chromium": "chromium",
    "ingest replica": "ServeReplica",
    "shards": "ray::Shard",
    "postgresql": "postgres:",
}


def _class_load(
    url: str, target: Target, plan: LoadPlan, redis_url: str
) -> tuple[threading.Thread, dict[str, Any]]:
    """The loadtest, started in a thread of its own (Playwright's sync API keeps the main one);
    its report fills the dict when the thread ends."""
    result: dict[str, Any] = {}

    def run() -> None:
        result.update(asyncio.run(run_load(url, [target], plan, redis_url)))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _phase(
    url: str, target: Target, plan: LoadPlan, redis_url: str, pages: list[Any]
) -> dict[str, Any]:
    """One run of the class, with `pages` open; their hand-to-screen times if any."""
    before, started = cpu_by_command(PROCESSES), time.monotonic()
    load, result = _class_load(url, target, plan, redis_url)
    seen: list[float] = []
    published: list[float] = []
    in_banner: list[float] = []
    number = 0
    alerts = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    alerts.subscribe(alert_channel(target.classroom_id))
    while load.is_alive():
        if pages:
            number += 1
            on_screen, bannered, in_redis = _hand_on_every_page(url, target, pages, number, alerts)
            seen.extend(on_screen)
            in_banner.extend(bannered)
            published.append(in_redis)
        load.join(HAND_EVERY_S)
    alerts.close()
    elapsed = time.monotonic() - started
    after = cpu_by_command(PROCESSES)
    return {
        "tabs": len(pages),
        "freshness_p99_ms": result["freshness"]["p99_ms"],
        "help_alert_p99_ms": result["help_alert"]["p99_ms"],
        "latency_p99_ms": result["latency"]["p99_ms"],
        "non_2xx": result["non_2xx"],
        "events_per_s": result["events_per_s"],
        "cores": {name: round((after[name] - before[name]) / elapsed, 2) for name in PROCESSES},
        "hand_on_screen": spread(seen, (50, 99)) if seen else None,
        "hand_in_banner": spread(in_banner, (50, 99)) if in_banner else None,
        "hand_in_redis": spread(published, (50, 99)) if published else None,
    }


# Each tab notes, by its own clock (this machine's), when the name first enters its page (the
# toast, at once) and when the help banner holds it (the redraw, which stays): the tabs are
# watched together, not one after another, and no poll of the page's text adds work.
_WATCH = """(name) => {
  window.__cmSeen = null;
  window.__cmBanner = null;
  const banner = () => [...document.querySelectorAll('.cm-banner')]
    .some((b) => b.textContent.includes(name));
  const look = () => {
    if (window.__cmSeen === null && document.body.textContent.includes(name)) {
      window.__cmSeen = Date.now();
    }
    if (window.__cmBanner === null && banner()) window.__cmBanner = Date.now();
    return window.__cmBanner !== null;
  };
  if (look()) return;
  const watch = new MutationObserver(() => { if (look()) watch.disconnect(); });
  watch.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def _hand_on_every_page(
    url: str, target: Target, pages: list[Any], number: int, alerts: Any
) -> tuple[list[float], list[float], float]:
    """Raise a probe student's hand; seconds until each tab shows their name anywhere, and in
    its help banner, and until the alert is on the class's Redis channel (`alerts`,
    subscribed), the dashboards' source. Then lower it."""
    name = f"Dash probe {number}"
    student = f"dash-probe-{number}"
    for page in pages:
        page.evaluate(_WATCH, name)
    posted = time.time()
    _post(url, target, [_hand(student, name, "help")])
    in_redis = _published(alerts, student) - posted
    seen: list[float] = []
    in_banner: list[float] = []
    deadline = time.monotonic() + 30
    while len(in_banner) < len(pages) and time.monotonic() < deadline:
        pages[0].wait_for_timeout(100)
        in_banner = [t / 1000 - posted for p in pages if (t := p.evaluate("window.__cmBanner"))]
    if len(in_banner) < len(pages):
        missing = len(pages) - len(in_banner)
        raise TimeoutError(f"{missing} of {len(pages)} tabs never showed {name} in the banner")
    seen = [p.evaluate("window.__cmSeen") / 1000 - posted for p in pages]
    _post(url, target, [_hand(student, name, "help_stop")])
    return seen, in_banner, in_redis


def _published(alerts: Any, student: str) -> float:
    """When `student`'s raised hand reached the alert channel (time.time())."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        message = alerts.get_message(timeout=1.0)
        if message and message["type"] == "message":
            alert = json.loads(message["data"])
            if alert.get("kind") == "help_raised" and alert.get("student_id") == student:
                return time.time()
    raise TimeoutError(f"no help alert for {student} on Redis")


def _hand(student: str, name: str, kind: str) -> dict[str, Any]:
    return {
        "type": kind,
        "event_id": str(uuid.uuid4()),
        "student_id": student,
        "student_name": name,
        "time": datetime.now(UTC).isoformat(),
    }


def _post(url: str, target: Target, events: list[dict[str, Any]]) -> None:
    answer = httpx.post(
        f"{url}/api/v1/events",
        json=events,
        headers=bearer(target.ingest_token),
        timeout=30,
    )
    answer.raise_for_status()


def _signed_in(browser: Any, dashboard: str) -> Any:
    """A new tab on the class overview, past its first render."""
    # Reduced motion: the help banner's pulse would repaint every tab on the two cores the
    # server needs; an instructor's browser has a machine of its own.
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, reduced_motion="reduce")
    page = context.new_page()
    login(page, dashboard, EMAIL, PASSWORD, wait_for="Students")
    return page


def measure(
    tabs: tuple[int, ...], students: int, seconds: float, warmup_s: float
) -> dict[str, Any]:
    """The baseline (no tab), then each count of `tabs` open, on one deployment and one class."""
    with temporary_database() as dsn:
        settings = own_settings("bench-dash", dsn, direct_ingress=True)
        with own_cluster(settings) as address:
            stack.deploy(settings)
            url = f"http://127.0.0.1:{settings.http_port}"
            target = classrooms(settings, 1)[0]
            accounts.add_instructor(dsn, EMAIL, "Bench Instructor", PASSWORD)
            accounts.grant(dsn, EMAIL, target.classroom_id)
            redis = settings.alerts_url
            # The same roster in every phase; a seed of its own each, or its events would be
            # the last phase's ids again, and only duplicates.
            plans = [
                LoadPlan("classroom", students=students, seconds=s, seed=n)
                for n, s in enumerate((warmup_s, seconds, *(seconds for _ in tabs)))
            ]
            env = {
                "CELLMON_DASHBOARD_FAKE": "",
                "CELLMON_RAY_ADDRESS": address,
                "CELLMON_NAMESPACE": settings.namespace,
                "CELLMON_STORE_URL": dsn,
                "RAY_AUTH_MODE": "token",
            }
            asyncio.run(run_load(url, [target], plans[0], redis))  # the class exists before both
            with streamlit_process(env) as (dashboard, _), sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                baseline = _phase(url, target, plans[1], redis, [])
                print(f"no tab: {json.dumps(baseline)}", flush=True)
                pages: list[Any] = []
                opened = []
                for phase, count in enumerate(tabs, start=2):
                    while len(pages) < count:
                        pages.append(_signed_in(browser, dashboard))
                    opened.append(_phase(url, target, plans[phase], redis, pages))
                    print(f"{count} tabs: {json.dumps(opened[-1])}", flush=True)
                browser.close()
    return {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "students": students,
        "seconds": seconds,
        "baseline": baseline,
        "opened": opened,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=45.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    args = parser.parse_args()
    print(json.dumps(measure(tuple(args.tabs), args.students, args.seconds, args.warmup), indent=2))
