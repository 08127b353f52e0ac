"""The headline: students served live by one machine. The loadtest's classroom profile (the
existing system's pace, classrooms of 300) at growing class counts, with its probes; the
largest count where freshness p99 <= 1 s, help alert p99 <= 250 ms and every request got a
2xx. The load generator is Python on the same cores, so its own CPU is reported beside each
step: where it takes a large share, it is part of what limits the figure.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from typing import Any

from cellmon.settings import Settings
from cellmon_cli.loadtest import LoadPlan, Target, run_load

STEPS = (1_000, 2_000, 4_000, 7_000, 10_000)
CLASS_SIZE = 300
FRESH_P99_MS, ALERT_P99_MS = 1_000, 250


def headline(
    url: str,
    settings: Settings,
    make_classrooms: Any,
    seconds: float,
    steps: tuple[int, ...] = STEPS,
) -> dict[str, Any]:
    """Step up until a step misses a target; the largest step that met all of them."""
    rows, served = [], 0
    for students in steps:
        targets: list[Target] = make_classrooms(settings, math.ceil(students / CLASS_SIZE))
        row = step(url, settings, targets, students, seconds)
        rows.append(row)
        print(f"headline {students:>6}: {row}", flush=True)
        if not row["met"]:
            break
        served = students
    return {"students": served, "steps": rows}


def step(
    url: str, settings: Settings, targets: list[Target], students: int, seconds: float
) -> dict[str, Any]:
    plan = LoadPlan("classroom", students=students, seconds=seconds, seed=1)
    cpu, wall = time.process_time(), time.perf_counter()
    result = asyncio.run(run_load(url, targets, plan, settings.alerts_url))
    generator = (time.process_time() - cpu) / (time.perf_counter() - wall)
    fresh, alert = result["freshness"]["p99_ms"], result["help_alert"]["p99_ms"]
    met = (
        fresh is not None
        and fresh <= FRESH_P99_MS
        and alert is not None
        and alert <= ALERT_P99_MS
        and result["non_2xx"] == 0
    )
    return {
        "students": students,
        "classrooms": len(targets),
        "requests_per_s": result["requests_per_s"],
        "events_per_s": result["events_per_s"],
        "latency_p99_ms": result["latency"]["p99_ms"],
        "freshness_p99_ms": fresh,
        "help_alert_p99_ms": alert,
        "non_2xx": result["non_2xx"],
        "generator_cpu_share": round(generator / (os.cpu_count() or 1), 2),
        "met": met,
    }
