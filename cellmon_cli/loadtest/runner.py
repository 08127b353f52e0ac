"""Drive the load: simulated students (classroom profile) or batches as fast as the ingest
takes them (stress profile), with probes alongside; returns the report."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from cellmon.simulation.habits import Pace
from cellmon.simulation.plan import join_offsets, plan_class, ramp_seconds
from cellmon.simulation.script import SimulatedStudent
from cellmon_cli.loadtest.events import StressEvents
from cellmon_cli.loadtest.probes import Probe, Target
from cellmon_cli.loadtest.stats import Tally, report
from cellmon_cli.loadtest.wire import Connection, Endpoint, WireError

EVENTS_PATH = "/api/v1/events"
_JSON = {"Content-Type": "application/json"}
Profile = Literal["classroom", "stress"]


@dataclass(frozen=True)
class LoadPlan:
    """What to run. `rate` caps the stress profile's requests/s (None: as fast as it goes)."""

    profile: Profile
    students: int
    seconds: float
    batch: int = 1
    concurrency: int = 32
    rate: float | None = None
    speed: float = 1.0
    warmup_s: float = 0.0
    probe_every_s: float = 1.0
    seed: int | None = None

    def setup(self, classrooms: int) -> dict[str, Any]:
        """The plan as it appears at the top of the report."""
        stress = self.profile == "stress"
        return {
            "profile": self.profile,
            "students": self.students,
            "classrooms": classrooms,
            "batch": self.batch if stress else None,
            "concurrency": self.concurrency,
            "rate": self.rate if stress else None,
            "speed": None if stress else self.speed,
        }


class Window:
    """The tally being filled and when it started; a warm-up is measured, then thrown away."""

    def __init__(self) -> None:
        self.tally, self.started = Tally(), time.perf_counter()

    def restart(self) -> None:
        self.tally, self.started = Tally(), time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


ProgressCallback = Callable[[Tally, float], None]  # (tally so far, seconds into the run)


async def run_load(
    base_url: str,
    targets: Sequence[Target],
    plan: LoadPlan,
    redis_url: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Run `plan` against the ingest at `base_url`; the JSON report."""
    if not targets:
        raise ValueError("no classroom to load")
    endpoint = Endpoint.parse(base_url)
    window, stop = Window(), asyncio.Event()
    deadline = time.perf_counter() + plan.warmup_s + plan.seconds
    rng = random.Random(plan.seed)
    if plan.profile == "stress":
        load = _stress(endpoint, targets, plan, window, deadline, rng)
    else:
        load = _classroom(endpoint, targets, plan, window, deadline, rng)
    probes = [
        asyncio.create_task(
            _probe_into(window, endpoint, target, redis_url, stop, plan.probe_every_s)
        )
        for target in targets
    ]
    ticker = asyncio.create_task(_tick(window, plan, on_progress))
    if plan.warmup_s:
        asyncio.get_running_loop().call_later(plan.warmup_s, window.restart)
    try:
        await load
    finally:
        measured = window.elapsed()
        stop.set()
        ticker.cancel()
        await asyncio.gather(*probes, ticker, return_exceptions=True)
    return report(window.tally, measured, plan.setup(len(targets)))


async def _probe_into(
    window: Window,
    endpoint: Endpoint,
    target: Target,
    redis_url: str | None,
    stop: asyncio.Event,
    every_s: float,
) -> None:
    probe = Probe(endpoint, target, lambda: window.tally, redis_url)
    await probe.run(stop, every_s)


async def _tick(window: Window, plan: LoadPlan, on_progress: ProgressCallback | None) -> None:
    if on_progress is None:
        return
    started = time.perf_counter()
    while True:
        await asyncio.sleep(0.5)
        on_progress(window.tally, min(time.perf_counter() - started, plan.warmup_s + plan.seconds))


async def _post(
    connection: Connection, body: bytes, events: int, window: Window, sent: float
) -> None:
    """One POST; its latency counts from `sent` (the scheduled time, under a rate cap)."""
    try:
        reply = await connection.request("POST", EVENTS_PATH, body, _JSON)
    except WireError as error:
        window.tally.failed(str(error).split(":")[0] or "connection error", events)
        return
    accepted = 0
    if 200 <= reply.status < 300:
        with contextlib.suppress(orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            accepted = int(orjson.loads(reply.body).get("accepted", 0))
    window.tally.answered(reply.status, time.perf_counter() - sent, events, accepted)


# -- stress: fixed-size batches, closed loop (or paced at `rate`) --------------------------


async def _stress(
    endpoint: Endpoint,
    targets: Sequence[Target],
    plan: LoadPlan,
    window: Window,
    deadline: float,
    rng: random.Random,
) -> None:
    run_id = uuid.uuid4().hex[:12]
    per_room = max(plan.students // len(targets), 1)
    sources = [StressEvents(t.classroom_id, per_room, run_id, rng) for t in targets]
    schedule = _Schedule(plan.rate)
    workers = [
        _stress_worker(
            Connection(endpoint, _bearer(targets[n % len(targets)])),
            sources[n % len(targets)],
            plan.batch,
            window,
            deadline,
            schedule,
        )
        for n in range(plan.concurrency)
    ]
    await asyncio.gather(*workers)


class _Schedule:
    """Request start times at a fixed rate, shared by the workers (None: no pacing)."""

    def __init__(self, rate: float | None) -> None:
        self.rate, self.start, self.issued = rate, time.perf_counter(), 0

    def next_slot(self) -> float | None:
        if self.rate is None:
            return None
        slot = self.start + self.issued / self.rate
        self.issued += 1
        return slot


async def _stress_worker(
    connection: Connection,
    source: StressEvents,
    batch: int,
    window: Window,
    deadline: float,
    schedule: _Schedule,
) -> None:
    try:
        while True:
            slot = schedule.next_slot()
            if slot is not None:
                await asyncio.sleep(max(0.0, slot - time.perf_counter()))
            now = time.perf_counter()
            if now >= deadline:
                return
            body = source.body(batch, datetime.now(UTC))
            await _post(connection, body, batch, window, slot if slot is not None else now)
    finally:
        connection.close()


# -- classroom: the existing system's profile, through the simulator's students ------------


async def _classroom(
    endpoint: Endpoint,
    targets: Sequence[Target],
    plan: LoadPlan,
    window: Window,
    deadline: float,
    rng: random.Random,
) -> None:
    sizes = [
        plan.students // len(targets) + (i < plan.students % len(targets))
        for i in range(len(targets))
    ]
    ramp = ramp_seconds(plan.seconds, plan.speed)
    tasks = []
    for target, size in zip(targets, sizes, strict=True):
        pool: asyncio.Queue[Connection] = asyncio.Queue()
        for _ in range(max(1, min(plan.concurrency, size))):
            pool.put_nowait(Connection(endpoint, _bearer(target)))
        class_ = plan_class(target.classroom_id, size, rng, pace=Pace(speed=plan.speed))
        offsets = join_offsets(size, ramp, rng)
        tasks += [
            _attend(student, offset, deadline, pool, window)
            for student, offset in zip(class_, offsets, strict=True)
        ]
    await asyncio.gather(*tasks)


async def _attend(
    student: SimulatedStudent,
    join_after_s: float,
    deadline: float,
    pool: asyncio.Queue[Connection],
    window: Window,
) -> None:
    """One student: join, act whenever due, leave (close the notebook) at the deadline."""
    await asyncio.sleep(join_after_s)
    if time.perf_counter() >= deadline:
        return
    await _send(student.start(_utcnow()), pool, window)
    while (due := student.next_due()) is not None:
        wait = (due - _utcnow()).total_seconds()
        if time.perf_counter() + wait >= deadline:
            break
        await asyncio.sleep(max(wait, 0.0))
        await _send(student.step(_utcnow()), pool, window)
    await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
    await _send(student.leave(_utcnow()), pool, window)


async def _send(
    events: list[dict[str, Any]], pool: asyncio.Queue[Connection], window: Window
) -> None:
    if not events:
        return
    body = orjson.dumps(events)
    connection = await pool.get()
    try:
        await _post(connection, body, len(events), window, time.perf_counter())
    finally:
        pool.put_nowait(connection)


def _bearer(target: Target) -> dict[str, str]:
    return {"Authorization": f"Bearer {target.ingest_token}"}


def _utcnow() -> datetime:
    return datetime.now(UTC)


__all__ = ["LoadPlan", "Target", "run_load"]
