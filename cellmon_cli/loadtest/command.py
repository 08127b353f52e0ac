"""`cellmon loadtest`: options, the classrooms to load, a progress bar, the report."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from cellmon.settings import Settings
from cellmon_cli.loadtest.probes import Target
from cellmon_cli.loadtest.progress import ProgressBar
from cellmon_cli.loadtest.runner import LoadPlan, run_load
from cellmon_cli.loadtest.stats import table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of `cellmon loadtest` on `parser`."""
    parser.add_argument("--url", help="ingest base URL (default: this machine's Serve)")
    parser.add_argument(
        "--profile",
        choices=("classroom", "stress"),
        default="classroom",
        help="classroom: students at the existing system's pace; stress: batches, flat out",
    )
    parser.add_argument("--students", type=_positive_int, default=300)
    parser.add_argument("--minutes", type=_positive_float, default=5.0)
    parser.add_argument("--batch", type=_positive_int, default=1, help="stress: events/request")
    parser.add_argument(
        "--concurrency", type=_positive_int, default=32, help="connections per run (32)"
    )
    parser.add_argument("--rate", type=_positive_float, help="stress: cap requests/s")
    parser.add_argument("--speed", type=_positive_float, default=1.0, help="classroom: pace x")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds not counted")
    parser.add_argument("--classroom", help="classroom id (default: $CELLMON_CLASSROOM)")
    parser.add_argument("--token", help="its ingest token (default: $CELLMON_TOKEN)")
    parser.add_argument(
        "--instructor-token",
        help="its instructor token, for the freshness probe ($CELLMON_INSTRUCTOR_TOKEN)",
    )
    parser.add_argument(
        "--classrooms",
        type=_positive_int,
        default=1,
        help="without --token: create this many fresh classrooms on the local cluster",
    )
    parser.add_argument(
        "--redis", help="Redis URL for the help-alert probe ('none': off; default: settings)"
    )
    parser.add_argument("--json", dest="json_path", help="write the report as JSON here ('-')")
    parser.add_argument("--seed", type=int)


def loadtest_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the load test; exit 0 when every request got 2xx and every probe answered."""
    try:
        targets = _targets(args, settings)
    except (ValueError, ConnectionError) as error:
        print(f"cellmon loadtest: {error}", file=sys.stderr)
        return 2
    url = args.url or f"http://{settings.http_host}:{settings.http_port}"
    redis_url = None if (args.redis or "").lower() == "none" else args.redis or settings.alerts_url
    if redis_url and redis_url.startswith("memory://"):
        redis_url = None
    plan = LoadPlan(
        profile=args.profile,
        students=args.students,
        seconds=args.minutes * 60,
        batch=args.batch,
        concurrency=args.concurrency,
        rate=args.rate,
        speed=args.speed,
        warmup_s=max(args.warmup, 0.0),
        seed=args.seed,
    )
    rooms = ", ".join(t.classroom_id for t in targets)
    print(f"load test: {args.profile}, {args.students} students in {rooms} at {url}")
    bar = ProgressBar(plan.warmup_s + plan.seconds)
    try:
        result = asyncio.run(run_load(url, targets, plan, redis_url, bar.update))
    except KeyboardInterrupt:
        bar.finish()
        print("stopped")
        return 130
    bar.finish()
    result["url"] = url
    print(table(result))
    _write_json(result, args.json_path)
    return 0 if result["non_2xx"] == 0 and not result["probe_timeouts"] else 1


def _targets(args: argparse.Namespace, settings: Settings) -> list[Target]:
    token = args.token or os.environ.get("CELLMON_TOKEN")
    classroom = args.classroom or os.environ.get("CELLMON_CLASSROOM")
    instructor = args.instructor_token or os.environ.get("CELLMON_INSTRUCTOR_TOKEN")
    if token or classroom:
        if not (token and classroom):
            raise ValueError("--classroom and --token go together (or neither: fresh classrooms)")
        return [Target(classroom, token, instructor)]
    return _fresh_classrooms(settings, args.classrooms)


def _fresh_classrooms(settings: Settings, count: int) -> list[Target]:
    """New classrooms on the local cluster, so the test leaves real classes alone."""
    from cellmon_cli import cluster, stack

    try:
        cluster.connect(settings)
    except Exception as error:
        raise ConnectionError(
            f"no running cluster to create classrooms on ({error}); start one with "
            "`cellmon up`, or pass --classroom and --token"
        ) from None
    run = uuid.uuid4().hex[:6]
    created = [
        stack.create_classroom(settings, f"Load test {run}", f"loadtest-{run}-{n}")
        for n in range(count)
    ]
    return [Target(c["classroom_id"], c["ingest_token"], c["instructor_token"]) for c in created]


def _write_json(result: dict[str, Any], path: str | None) -> None:
    if not path:
        return
    text = json.dumps(result, indent=2)
    if path == "-":
        print(text)
    else:
        Path(path).write_text(text + "\n")
        print(f"report written to {path}")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value
