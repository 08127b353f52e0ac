"""Ingest throughput and latency: Cell Monitor's durable Serve ingest against a bare
uvicorn + FastAPI baseline, in one run on one Ray cluster; plus the memory and the restart of a
shard holding 10,000 students.

- baseline: `benchmarks.baseline_ingest`, the same `IngestPipeline` and Shard actors, no Serve,
  events kept in memory only (nothing durable);
- cellmon: the real deployment (Serve, shards writing the PostgreSQL log before they answer).

Both are driven by `wrk` (Debian's; a Lua script makes unique event ids, `benchmarks.wrk`) at
batch 1, 10 and 100, alternating which goes first in each round, so the client does not set
the figure. Then the class of 300 at the existing system's pace (`cellmon loadtest`'s classroom
profile, with its probes), overload and classroom creation (`benchmarks.under_stress`), and a
shard of 10,000 students.

Usage: .venv/bin/python -m benchmarks.ingest [--seconds 20] [--rounds 2] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks import headline, report, under_stress, wrk
from cellmon.settings import Settings
from cellmon_cli import stack
from cellmon_cli.cluster import own_cluster
from cellmon_cli.loadtest import LoadPlan, Target, run_load
from tests.support.fixtures import temporary_database
from tests.support.private_postgres import free_port

BATCHES = (1, 10, 100)


@contextmanager
def baseline_server(address: str, settings: Settings) -> Iterator[str]:
    """The bare uvicorn process, on shards of its own whose log is in memory."""
    from actors.runtime.client import ActorClient, blocking

    blocking(ActorClient.deploy(settings), timeout_s=120)
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.baseline_ingest", address, settings.namespace]
    process = subprocess.Popen([*command, str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the baseline server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the baseline server at {url} did not come up")


def classrooms(settings: Settings, count: int) -> list[Target]:
    """Fresh classrooms in `settings.namespace`, with both tokens."""
    run = uuid.uuid4().hex[:6]
    made = [stack.create_classroom(settings, "bench", f"bench-{run}-{n}") for n in range(count)]
    return [Target(m["classroom_id"], m["ingest_token"], m["instructor_token"]) for m in made]


def load(url: str, targets: list[Target], batch: int, args: argparse.Namespace) -> dict[str, Any]:
    """wrk's figures for one path and batch size, after an unmeasured warm-up."""
    tokens = [t.ingest_token for t in targets]
    shape = {"batch": batch, "students": args.students, "connections": args.concurrency}
    if args.warmup:
        wrk.run(url, wrk.Load(tokens, seconds=args.warmup, **shape))
    return wrk.run(url, wrk.Load(tokens, seconds=args.seconds, **shape))


def classroom_profile(
    args: argparse.Namespace, paths: dict[str, tuple[str, list[Target]]], redis_url: str
) -> dict[str, Any]:
    """The existing system's profile at `args.class_size` students in one classroom, with the
    freshness and help-alert probes, on each path in turn."""
    plan = LoadPlan(
        "classroom",
        students=args.class_size,
        seconds=args.classroom_seconds,
        speed=args.classroom_speed,
        seed=1,
    )
    results = {}
    for name, (url, targets) in paths.items():
        result = asyncio.run(run_load(url, targets[:1], plan, redis_url))
        fresh, alert = result["freshness"]["p99_ms"], result["help_alert"]["p99_ms"]
        print(
            f"classroom {name:>8}: {_brief(result)}  freshness p99 {fresh} ms  "
            f"help alert p99 {alert} ms",
            flush=True,
        )
        results[name] = result
    return results


def throughput(args: argparse.Namespace, paths: dict[str, tuple[str, list[Target]]]) -> list[Any]:
    """Every batch size on every path, `rounds` times, the first path alternating."""
    rows = []
    names = list(paths)
    for batch in args.batches:
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else reversed(names):
                url, targets = paths[name]
                result = load(url, targets, batch, args)
                runs[name].append(result)
                print(f"batch {batch:>3} {name:>8}: {_brief(result)}", flush=True)
        rows.append({"batch": batch, **{name: _merge(runs[name]) for name in names}})
    return rows


def _brief(result: dict[str, Any]) -> str:
    latency = result.get("latency", result)  # the loadtest's report nests it, wrk's does not
    return (
        f"{result['requests_per_s']:,.0f} req/s  {result['events_per_s']:,.0f} ev/s  "
        f"p50 {latency['p50_ms']} ms  p99 {latency['p99_ms']} ms  "
        f"non-2xx {result['non_2xx']}"
    )


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median over rounds of each figure, and every non-2xx."""

    def median(pick: Any) -> float:
        values = [pick(r) for r in runs if pick(r) is not None]
        return round(statistics.median(values), 1) if values else 0.0

    return {
        "requests_per_s": median(lambda r: r["requests_per_s"]),
        "events_per_s": median(lambda r: r["events_per_s"]),
        "p50_ms": median(lambda r: r["p50_ms"]),
        "p99_ms": median(lambda r: r["p99_ms"]),
        "non_2xx": sum(r["non_2xx"] for r in runs),
        "rounds": [_brief(r) for r in runs],
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark; returns every figure."""
    tag = uuid.uuid4().hex[:6]
    with temporary_database() as dsn:
        durable = Settings(
            namespace=f"bench-durable-{tag}",
            store_url=dsn,
            http_port=free_port(),
            direct_ingress=not args.serve_proxy,
        )
        with own_cluster(durable) as address:
            return _measure(args, address, durable, tag)


def _measure(args: argparse.Namespace, address: str, durable: Settings, tag: str) -> dict[str, Any]:
    from benchmarks import shard_restart

    stack.deploy(durable)
    bare = Settings(namespace=f"bench-baseline-{tag}", store_url="memory://")
    with baseline_server(address, bare) as baseline_url:
        paths = {
            "baseline": (baseline_url, classrooms(bare, args.classrooms)),
            "cellmon": (
                f"http://127.0.0.1:{durable.http_port}",
                classrooms(durable, args.classrooms),
            ),
        }
        rows = throughput(args, paths)
        class_rows = classroom_profile(args, paths, durable.alerts_url)
    stress = _under_stress(args, durable)
    served = headline.headline(
        f"http://127.0.0.1:{durable.http_port}",
        durable,
        classrooms,
        args.headline_seconds,
        tuple(args.headline_steps),
    )
    shard = None
    if not args.skip_shard:
        with temporary_database() as shard_dsn:  # its own registry: every classroom on one shard
            shard = shard_restart.measure(shard_dsn, args.shard_students)
    return {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": args.command,
        "machine": report.machine(),
        "settings": {
            "seconds": args.seconds,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "concurrency": args.concurrency,
            "students": args.students,
            "classrooms": args.classrooms,
            "serve": "direct ingress" if durable.direct_ingress else "HTTP proxy",
        },
        "throughput": rows,
        "classroom": class_rows,
        "stress": stress,
        "headline": served,
        "shard": shard,
    }


def _under_stress(args: argparse.Namespace, durable: Settings) -> dict[str, Any]:
    """Overload and classroom creation on the durable deployment, in fresh classrooms."""
    url, targets = f"http://127.0.0.1:{durable.http_port}", classrooms(durable, args.classrooms)
    figures = {
        "overload": under_stress.overload(
            url, durable, targets, args.stress_seconds, scale=args.stress_scale
        )
    }
    print(f"overload: {json.dumps(figures['overload'])}", flush=True)
    figures["applied_matches_log"] = under_stress.applied_matches_log(durable, targets)
    figures["creation"] = under_stress.creation(
        url, durable, targets, args.seconds, args.new_classrooms
    )
    print(f"creation: {json.dumps(figures['creation'])}", flush=True)
    return figures


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured, before each run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16, help="client connections")
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--classrooms", type=int, default=4)
    parser.add_argument("--class-size", type=int, default=300, help="classroom profile")
    parser.add_argument("--classroom-seconds", type=float, default=60.0)
    parser.add_argument("--classroom-speed", type=float, default=1.0)
    parser.add_argument("--shard-students", type=int, default=10_000)
    parser.add_argument("--stress-seconds", type=float, default=60.0, help="overload, each phase")
    parser.add_argument(
        "--stress-scale", type=float, default=1.0, help="overload's connection counts, times this"
    )
    parser.add_argument("--new-classrooms", type=int, default=20, help="created under load")
    parser.add_argument("--headline-seconds", type=float, default=45.0, help="each step")
    parser.add_argument("--headline-steps", type=int, nargs="+", default=list(headline.STEPS))
    parser.add_argument("--batches", type=int, nargs="+", default=list(BATCHES))
    parser.add_argument(
        "--serve-proxy", action="store_true", help="Serve's default HTTP proxy path instead"
    )
    parser.add_argument("--skip-shard", action="store_true", help="throughput only")
    parser.add_argument("--json", dest="json_path", help="write the figures here")
    parser.add_argument("--write", type=Path, help="update this BENCHMARKS.md's generated part")
    parser.add_argument(
        "--smoke", action="store_true", help="seconds-long runs and 400 students: CI's check"
    )
    args = parser.parse_args(argv)
    args.command = os.environ.get("BENCH_COMMAND") or "python -m benchmarks.ingest " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    if args.smoke:
        args.seconds, args.warmup, args.rounds, args.shard_students = 1.5, 0.5, 1, 400
        args.stress_seconds, args.new_classrooms, args.stress_scale = 4.0, 3, 1 / 8
        args.headline_seconds, args.headline_steps = 4.0, [40]
        args.class_size, args.classroom_seconds, args.classroom_speed = 20, 4.0, 20.0
    return args


if __name__ == "__main__":
    arguments = parse()
    figures = main(arguments)
    text = json.dumps(figures, indent=2)
    if arguments.json_path:
        Path(arguments.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(arguments.json_path).write_text(text + "\n")
    if arguments.write:
        report.update(arguments.write, report.render(figures))
        print(f"updated {arguments.write}")
    else:
        print(text)
