"""Serving under stress, on the real deployment, with `wrk` as the load and the loadtest's
probes (freshness, help alert) beside it; every figure against the same run's calm baseline.

- overload: wrk offers about twice what the ingest took closed-loop, for `seconds`; reported:
  what it accepted, how late, how fresh, how fast a raised hand reached Redis, and that every
  event answered 2xx is in the log and in the classrooms' state;
- creation: ingest for existing classrooms while 20 new ones are created and sent their first
  events (which starts shard processes), against the same load with no creation.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from benchmarks import wrk
from cellmon.settings import Settings
from cellmon_cli import stack
from cellmon_cli.loadtest import Target
from cellmon_cli.loadtest.probes import Probe
from cellmon_cli.loadtest.stats import Tally
from cellmon_cli.loadtest.wire import Endpoint

OVERLOAD = 2.0  # offered load as a multiple of the capacity
CAPACITY_CONNECTIONS = 256  # closed loop: as much as the ingest takes, queued at its door
OVERLOAD_CONNECTIONS = 512  # on a schedule: the offered rate does not fall when answers slow
MAX_CONNECTIONS = 4_096  # what the schedule may grow to, to offer the target at a long latency
FREE_AFTER_S = 0.5  # connections to start with: the target's requests of this many seconds
TRIALS = 3  # trials before the measured run


def overload(
    url: str,
    settings: Settings,
    targets: list[Target],
    seconds: float,
    batch: int = 10,
    scale: float = 1.0,
) -> dict[str, Any]:
    """Calm (closed loop, 16 connections), then the capacity (the most the ingest accepts,
    closed loop, 256 connections), then twice the capacity offered; the probes run beside the
    calm and the overloaded runs. `scale` shrinks the connection counts (the smoke's runs are
    seconds long: with hundreds of connections, none might be answered in one)."""
    tokens = [t.ingest_token for t in targets]
    calm = _observed(url, settings, targets, wrk.Load(tokens, batch=batch, seconds=seconds))
    crowd = max(2, round(CAPACITY_CONNECTIONS * scale))
    full = wrk.run(
        url, wrk.Load(tokens, batch=batch, connections=crowd, seconds=max(1.0, seconds / 4))
    )
    capacity = full["accepted_per_s"]
    paced = max(2, round(OVERLOAD_CONNECTIONS * scale))
    most = max(paced, round(MAX_CONNECTIONS * scale))
    load = _paced(url, tokens, batch, OVERLOAD * capacity, seconds, paced, most)
    hot = _observed(url, settings, targets, load)
    hot["offered_x"] = round(hot["offered_per_s"] / capacity, 2) if capacity else None
    return {
        "batch": batch,
        "seconds": seconds,
        "capacity": full,
        "capacity_per_s": capacity,
        "calm": calm,
        "overload": hot,
    }


def _paced(
    url: str,
    tokens: list[str],
    batch: int,
    target: float,
    seconds: float,
    connections: int,
    most: int = MAX_CONNECTIONS,
) -> wrk.Load:
    """wrk offering `target` requests/s on a schedule (`wrk.Load.rate`). A schedule never offers
    more than its rate; it offers less when too few connections are free to take its slots
    (answers slower than connections / target), so short trials double the connections, up to
    `most`, until a trial offers 0.9 of the target."""
    target = max(target, 1.0)
    connections = min(most, max(connections, round(target * FREE_AFTER_S)))
    load = wrk.Load(tokens, batch=batch, connections=connections, rate=target, seconds=seconds)
    for _ in range(TRIALS):
        trial = wrk.run(url, replace(load, seconds=max(2.0, seconds / 6)))
        if trial["requests_per_s"] >= 0.9 * target or load.connections >= most:
            break
        load = replace(load, connections=min(most, load.connections * 2))
    return load


def _observed(
    url: str, settings: Settings, targets: list[Target], load: wrk.Load
) -> dict[str, Any]:
    """wrk's run, with the probes and an accepted-latency sampler in a thread beside it."""
    prefix = f"wrk-{uuid.uuid4().hex[:8]}"
    wrk.settle(url)  # the probes' first figures are of this run, not the last one's backlog
    beside = _Beside(url, targets[0], settings.alerts_url)
    beside.start()
    try:
        result = wrk.run(url, load, prefix)
    finally:
        tally, sampled = beside.finish()
    logged = asyncio.run(_logged(settings.store_url, prefix))
    return {
        "wrk": result,
        # wrk counts what was answered; on a schedule, what was offered is what it sent.
        "offered_per_s": result["requests_per_s"],
        "accepted_p50_ms": _percentile(sampled, 50),
        "accepted_p99_ms": _percentile(sampled, 99),
        "freshness_p99_ms": _percentile([s * 1000 for s in tally.freshness], 99),
        "help_alert_p99_ms": _percentile([s * 1000 for s in tally.help_alerts], 99),
        "probe_samples": {"freshness": len(tally.freshness), "help": len(tally.help_alerts)},
        "probe_timeouts": dict(tally.probe_timeouts),
        "events_2xx": result["events_accepted"],
        "events_logged": logged,
        # wrk stops with requests in flight: logged, never counted. So the log holds every
        # event answered 2xx, and at most one batch per connection more.
        "all_2xx_logged": 0 <= logged - result["events_accepted"] <= load.connections * load.batch,
    }


class _Beside(threading.Thread):
    """Probes and a sampler in their own event loop, while wrk runs."""

    def __init__(self, url: str, target: Target, redis_url: str | None) -> None:
        super().__init__(daemon=True)
        self.url, self.target, self.redis_url = url, target, redis_url
        self.tally, self.sampled = Tally(), []  # type: tuple[Tally, list[float]]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._halt: asyncio.Event | None = None
        self._ready = threading.Event()

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop, self._halt = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        probe = Probe(Endpoint.parse(self.url), self.target, lambda: self.tally, self.redis_url)
        await asyncio.gather(probe.run(self._halt), _sample(self.url, self.target, self))

    def finish(self) -> tuple[Tally, list[float]]:
        self._ready.wait(30)
        assert self._loop is not None and self._halt is not None
        self._loop.call_soon_threadsafe(self._halt.set)
        self.join(60)
        return self.tally, self.sampled


async def _sample(url: str, target: Target, beside: _Beside, every_s: float = 0.1) -> None:
    """A well-behaved student: one cell run every `every_s`; the latency of each 2xx."""
    headers = {"Authorization": f"Bearer {target.ingest_token}"}
    stop = beside._halt
    assert stop is not None
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            event = {
                "type": "cell_executed",
                "event_id": f"sample-{uuid.uuid4().hex}",
                "student_id": "sampler",
                "time": datetime.now(UTC).isoformat(),
                "notebook_path": "bench.ipynb",
                "cell_id": "c0",
                "cell_index": 0,
                "status": "ok",
            }
            try:
                answer = await client.post("/api/v1/events", json=[event])
                if answer.status_code == 202:
                    beside.sampled.append((time.perf_counter() - started) * 1000)
            except httpx.TransportError:
                pass
            rest = every_s - (time.perf_counter() - started)
            if rest > 0:
                await asyncio.sleep(rest)


def creation(
    url: str, settings: Settings, targets: list[Target], seconds: float, new: int = 20
) -> dict[str, Any]:
    """wrk on the existing classrooms, alone and while `new` classrooms are created."""
    tokens = [t.ingest_token for t in targets]
    load = wrk.Load(tokens, batch=10, seconds=seconds)
    alone = _with_sampler(url, targets[0], lambda: wrk.run(url, load))
    made: list[float] = []

    def create_while_loading() -> dict[str, Any]:
        creator = threading.Thread(target=_create, args=(url, settings, new, made), daemon=True)
        creator.start()
        result = wrk.run(url, load)
        creator.join(300)
        return result

    during = _with_sampler(url, targets[0], create_while_loading)
    return {
        "new_classrooms": new,
        "created": len(made),
        "creation_s": round(sum(made), 1),
        "alone": alone,
        "during": during,
        "ratio": round(during["events_per_s"] / alone["events_per_s"], 2),
    }


def _with_sampler(url: str, target: Target, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    wrk.settle(url)
    beside = _Beside(url, target, None)
    beside.start()
    try:
        result = run()
    finally:
        _, sampled = beside.finish()
    return {**result, "sampled_p99_ms": _percentile(sampled, 99), "sampled_max_ms": max(sampled)}


def _create(url: str, settings: Settings, count: int, made: list[float]) -> None:
    """New classrooms, each sent a first event (which hosts it on its shard)."""
    tag = uuid.uuid4().hex[:6]
    for n in range(count):
        started = time.perf_counter()
        room = stack.create_classroom(settings, "new", f"new-{tag}-{n}")
        event = {
            "type": "notebook_opened",
            "event_id": uuid.uuid4().hex,
            "student_id": "first",
            "time": datetime.now(UTC).isoformat(),
            "notebook_path": "a.ipynb",
        }
        httpx.post(
            f"{url}/api/v1/events",
            json=[event],
            headers={"Authorization": f"Bearer {room['ingest_token']}"},
            timeout=60,
        )
        made.append(time.perf_counter() - started)


async def _logged(dsn: str, prefix: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM events WHERE event_id LIKE $1", f"{prefix}-%"
            )
        )
    finally:
        await connection.close()


def _percentile(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 1)


def applied_matches_log(settings: Settings, targets: list[Target], timeout_s: float = 60.0) -> bool:
    """Every logged cell run of these classrooms reaches their state (the snapshot's count).
    The last batches wrk left in flight are logged, then applied, after it stops: so this
    waits, up to `timeout_s`, for the two counts to meet."""
    from actors.runtime.client import ActorClient, blocking

    actors = ActorClient(settings.namespace)
    ids = [t.classroom_id for t in targets]
    deadline = time.monotonic() + timeout_s
    while True:
        logged = asyncio.run(_cell_runs(settings.store_url, ids))
        applied = sum(blocking(actors.snapshot(c))["summary"]["executions"] for c in ids)
        if applied == logged:
            return True
        if time.monotonic() > deadline:
            print(
                f"applied {applied} of {logged} logged cell runs after {timeout_s:.0f} s",
                file=sys.stderr,
            )
            return False
        time.sleep(0.2)  # a poll's pace; the condition is the two counts


async def _cell_runs(dsn: str, classroom_ids: list[str]) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM events WHERE type = 'cell_executed'"
                " AND classroom_id = ANY($1::text[])",
                classroom_ids,
            )
        )
    finally:
        await connection.close()


def main() -> None:
    """Both scenarios on a deployment of their own: `python -m benchmarks.under_stress`."""
    import argparse
    import json

    from benchmarks.ingest import classrooms
    from cellmon_cli.cluster import own_cluster
    from tests.support.fixtures import temporary_database
    from tests.support.private_postgres import free_port

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with temporary_database() as dsn:
        settings = Settings(
            namespace=f"bench-stress-{uuid.uuid4().hex[:6]}", store_url=dsn, http_port=free_port()
        )
        with own_cluster(settings):
            stack.deploy(settings)
            url = f"http://127.0.0.1:{settings.http_port}"
            targets = classrooms(settings, 4)
            figures = {
                "overload": overload(url, settings, targets, args.seconds),
                "applied_matches_log": applied_matches_log(settings, targets),
                "creation": creation(url, settings, targets, min(args.seconds, 30.0)),
            }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
