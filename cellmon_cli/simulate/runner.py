"""Run a simulated class against a live ingest: one task per student, one shared HTTP client."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx

from cellmon.simulation.habits import Pace
from cellmon.simulation.plan import join_offsets, plan_class, ramp_seconds
from cellmon.simulation.script import SimulatedStudent
from cellmon_cli.simulate.sender import ProgressCallback, Sender, SendStats, SimulationAborted

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
FAREWELL_S = 5.0  # how long Ctrl-C waits for the students' closing events
FAREWELL_ATTEMPTS = 3


async def run_class(
    base_url: str,
    token: str,
    classroom_id: str,
    students: int = 30,
    duration_s: float | None = None,
    speed: float = 1.0,
    seed: int | None = None,
    on_progress: ProgressCallback | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> SendStats:
    """Simulate a class until `duration_s` real seconds pass (None: until cancelled)."""
    rng = random.Random(seed)
    class_ = plan_class(classroom_id, students, rng, pace=Pace(speed=speed))
    start = _utcnow()
    offsets = join_offsets(students, ramp_seconds(duration_s, speed), rng)
    deadline = None if duration_s is None else start + timedelta(seconds=duration_s)
    stats = SendStats()
    async with _client(base_url, token, transport) as client:
        await _check_reachable(client, base_url)
        sender = Sender(client, stats, random.Random(rng.getrandbits(64)), on_progress)
        joins = [start + timedelta(seconds=offset) for offset in offsets]
        await _attend_all(class_, joins, deadline, sender)
    return stats


def _client(
    base_url: str, token: str, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    """One client for the whole class: shared keep-alive connections, the token on every call."""
    timeout = httpx.Timeout(10.0, pool=None)  # a student waits for a free connection, never fails
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=timeout, transport=transport
    )


async def _check_reachable(client: httpx.AsyncClient, base_url: str) -> None:
    """Fail fast with one clear message rather than thirty students retrying into the void."""
    try:
        response = await client.get(HEALTH_PATH)
    except httpx.TransportError as error:
        raise SimulationAborted(f"cannot reach the ingest at {base_url}: {error}") from None
    if response.status_code != 200:
        log.warning(
            "%s%s answered HTTP %d; carrying on", base_url, HEALTH_PATH, response.status_code
        )


async def _attend_all(
    class_: Sequence[SimulatedStudent],
    joins: Sequence[datetime],
    deadline: datetime | None,
    sender: Sender,
) -> None:
    """Every student in their own task; the first fatal error, or a cancel, stops them all."""
    if not class_:
        return
    tasks = [
        asyncio.create_task(_attend(student, join_at, deadline, sender))
        for student, join_at in zip(class_, joins, strict=True)
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except asyncio.CancelledError:  # Ctrl-C: let the students close their notebooks, briefly
        await _cancel(tasks)
        await _farewell(class_, sender)
        raise
    await _cancel(tasks)
    for task in done:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error


async def _attend(
    student: SimulatedStudent, join_at: datetime, deadline: datetime | None, sender: Sender
) -> None:
    """One student's class: join on time, act whenever an action is due, leave at the deadline."""
    if not await _wait_until(join_at, deadline):
        return
    await sender.send(student.start(_utcnow()))
    sender.stats.joined += 1
    while (due := student.next_due()) is not None:
        if not await _wait_until(due, deadline):
            break
        await sender.send(student.step(_utcnow()))  # everything due now, as one batch
    await sender.send(student.leave(_utcnow()))


async def _wait_until(due: datetime, deadline: datetime | None) -> bool:
    """Sleep until `due`; False (after sleeping until the deadline) when it comes too late."""
    if deadline is not None and due >= deadline:
        await asyncio.sleep(max(0.0, (deadline - _utcnow()).total_seconds()))
        return False
    await asyncio.sleep(max(0.0, (due - _utcnow()).total_seconds()))
    return True


async def _cancel(tasks: Sequence[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _farewell(class_: Sequence[SimulatedStudent], sender: Sender) -> None:
    """Close notebooks and withdraw help requests, briefly, so no one stays 'in help'."""
    now = _utcnow()
    sends = [sender.send(student.leave(now), attempts=FAREWELL_ATTEMPTS) for student in class_]
    with contextlib.suppress(TimeoutError, SimulationAborted):
        await asyncio.wait_for(asyncio.gather(*sends), FAREWELL_S)


def _utcnow() -> datetime:
    return datetime.now(UTC)
