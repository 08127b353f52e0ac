"""Probes: how long a cell run takes to show in the classroom snapshot, and a help request to
reach a Redis subscriber, measured while the load runs.

A probe is one extra student per classroom ("loadtest-probe"). About once a second it posts
a cell run and polls the read API until its run count goes up, then raises its hand and waits
for the `help_raised` alert on the classroom's channel, then lowers it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from cellmon.views import alert_channel
from cellmon_cli.loadtest.events import probe_event
from cellmon_cli.loadtest.stats import Tally
from cellmon_cli.loadtest.wire import Connection, Endpoint, WireError

PROBE_STUDENT = "loadtest-probe"
PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Target:
    """One classroom under load: its id and tokens (no instructor token: no freshness probe)."""

    classroom_id: str
    ingest_token: str
    instructor_token: str | None = None


class Probe:
    """Measures freshness and help-alert latency for one classroom."""

    def __init__(
        self,
        endpoint: Endpoint,
        target: Target,
        tally: Callable[[], Tally],
        redis_url: str | None,
    ) -> None:
        # `tally` is a getter: the runner swaps in a fresh tally when its warm-up ends.
        self.target, self._tally, self.redis_url = target, tally, redis_url
        self._ingest = Connection(endpoint, {"Authorization": f"Bearer {target.ingest_token}"})
        reader = {"Authorization": f"Bearer {target.instructor_token}"}
        self._reader = Connection(endpoint, reader) if target.instructor_token else None
        self._runs = 0
        self._ids = (f"probe-{uuid.uuid4().hex}-{n}" for n in itertools.count())
        self._alert: asyncio.Future[float] | None = None

    async def run(self, stop: asyncio.Event, every_s: float = 1.0) -> None:
        """Probe until `stop` is set."""
        async with self._alerts() as listening:
            while not stop.is_set():
                started = time.monotonic()
                if self._reader is not None:
                    await self._freshness()
                if listening:
                    await self._help_alert()
                rest = every_s - (time.monotonic() - started)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(rest, 0.0))
        for connection in (self._ingest, self._reader):
            if connection is not None:
                connection.close()

    async def _post(self, kind: str) -> bool:
        body = probe_event(
            kind, self.target.classroom_id, PROBE_STUDENT, next(self._ids), datetime.now(UTC)
        )
        try:
            reply = await self._ingest.request("POST", "/api/v1/events", body, _JSON)
        except WireError:
            return False
        return 200 <= reply.status < 300

    async def _freshness(self) -> None:
        started = time.perf_counter()
        if not await self._post("cell_executed"):
            self._tally().probe_timeouts["freshness post"] += 1
            return
        self._runs += 1
        path = f"/api/v1/classrooms/{self.target.classroom_id}?activity_minutes=1"
        assert self._reader is not None
        while time.perf_counter() - started < PROBE_TIMEOUT_S:
            try:
                reply = await self._reader.request("GET", path)
            except WireError:
                await asyncio.sleep(0.05)
                continue
            if reply.status == 200 and _runs_of(reply.body, PROBE_STUDENT) >= self._runs:
                self._tally().freshness.append(time.perf_counter() - started)
                return
        self._tally().probe_timeouts["freshness"] += 1

    async def _help_alert(self) -> None:
        self._alert = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        if not await self._post("help"):
            self._tally().probe_timeouts["help post"] += 1
            return
        try:
            arrived = await asyncio.wait_for(self._alert, PROBE_TIMEOUT_S)
            self._tally().help_alerts.append(arrived - started)
        except TimeoutError:
            self._tally().probe_timeouts["help alert"] += 1
        finally:
            self._alert = None
            await self._post("help_stop")

    @contextlib.asynccontextmanager
    async def _alerts(self) -> AsyncIterator[bool]:
        """Subscribe to the classroom's alert channel for the probe's lifetime (if Redis is set)."""
        if not self.redis_url:
            yield False
            return
        import redis.asyncio as aioredis

        client = aioredis.from_url(self.redis_url)
        pubsub = client.pubsub()
        await pubsub.subscribe(alert_channel(self.target.classroom_id))
        await pubsub.get_message(timeout=5)  # the confirmation: from here on, nothing is missed
        listener = asyncio.create_task(self._listen(pubsub))
        try:
            yield True
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await client.aclose()

    async def _listen(self, pubsub: object) -> None:
        async for message in pubsub.listen():  # type: ignore[attr-defined]
            if message.get("type") != "message":
                continue
            arrived = time.perf_counter()
            alert = orjson.loads(message["data"])
            wanted = alert.get("kind") == "help_raised" and alert.get("student_id") == PROBE_STUDENT
            if wanted and self._alert is not None and not self._alert.done():
                self._alert.set_result(arrived)


_JSON = {"Content-Type": "application/json"}


def _runs_of(snapshot: bytes, student_id: str) -> int:
    """The student's execution count in a snapshot body (0 if absent or unreadable)."""
    try:
        rows = orjson.loads(snapshot).get("students", [])
    except (orjson.JSONDecodeError, AttributeError):
        return 0
    for row in rows:
        if row.get("student_id") == student_id:
            return int(row.get("executions", 0))
    return 0
