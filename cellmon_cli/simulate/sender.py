"""Deliver event batches to the ingest: retries where they can help, and a running count."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from cellmon.backoff import Backoff, retry_after_s
from cellmon.simulation.script import WireEvent

log = logging.getLogger(__name__)

EVENTS_PATH = "/api/v1/events"
BACKOFF = Backoff(base_s=0.5, max_s=30.0)
MAX_ATTEMPTS = 8  # about a minute and a half of backoff before a batch is given up


@dataclass
class SendStats:
    """Running totals of a simulation, in events (not requests) except `retries` and `joined`.

    `sent` minus the other outcomes is what was still in flight when the run was cut short.
    """

    sent: int = 0  # handed to the ingest (each event once, however many attempts)
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0  # refused as invalid by the ingest
    retries: int = 0  # attempts repeated after a connection error, 429 or 5xx
    failures: int = 0  # given up on, or refused for a reason other than validity
    joined: int = 0  # students in class so far

    def line(self) -> str:
        """The totals as one line."""
        return (
            f"students {self.joined}  sent {self.sent}  accepted {self.accepted}  "
            f"duplicates {self.duplicates}  rejected {self.rejected}  "
            f"retries {self.retries}  failures {self.failures}"
        )


class SimulationAborted(Exception):
    """The run cannot go on: the ingest is unreachable or refuses the token."""


ProgressCallback = Callable[[SendStats], None]


@dataclass
class _Retry:
    reason: str
    after: float | None = None  # the server's Retry-After, in seconds


@dataclass
class Sender:
    """Posts event batches to the ingest, retrying what is worth retrying, and keeps count."""

    client: httpx.AsyncClient
    stats: SendStats
    rng: random.Random
    on_progress: ProgressCallback | None = None
    _warned: set[str] = field(default_factory=set)

    async def send(self, events: Sequence[WireEvent], *, attempts: int = MAX_ATTEMPTS) -> None:
        """Deliver one batch; gives up (and counts failures) after `attempts` tries."""
        if not events:
            return
        self.stats.sent += len(events)
        attempts = max(attempts, 1)
        for attempt in range(attempts):
            retry = await self._attempt(events)
            if retry is None:
                break
            if attempt + 1 == attempts:
                self._fail(events, f"gave up after {attempts} attempts: {retry.reason}")
                break
            self.stats.retries += 1
            self._progress()
            await asyncio.sleep(BACKOFF.delay(attempt + 1, retry.after, self.rng))
        self._progress()

    async def _attempt(self, events: Sequence[WireEvent]) -> _Retry | None:
        """One POST; None when the batch is settled, else why and when to retry."""
        try:
            response = await self.client.post(EVENTS_PATH, json=list(events))
        except httpx.TransportError as error:  # refused, reset, timed out: worth another try
            return _Retry(f"{type(error).__name__}: {error}")
        if response.is_success:
            self._count(response)
            return None
        if response.status_code == 429 or response.status_code >= 500:
            after = retry_after_s(response.headers.get("Retry-After"), _utcnow())
            return _Retry(f"HTTP {response.status_code}", after)
        self._refused(events, response)
        return None

    def _count(self, response: httpx.Response) -> None:
        answer = _json_object(response)
        rejected = _rejections(answer)
        self.stats.accepted += int(answer.get("accepted", 0))
        self.stats.duplicates += int(answer.get("duplicates", 0))
        self.stats.rejected += len(rejected)
        for item in rejected:  # our events should all be valid: say why they were not
            self._warn(f"event rejected ({item.get('kind')}): {item.get('reason')}")

    def _refused(self, events: Sequence[WireEvent], response: httpx.Response) -> None:
        """A 4xx other than 429: retrying would not help, so log the server's reason."""
        reason = f"HTTP {response.status_code}: {_reason(response)}"
        if response.status_code in (401, 403):
            self.stats.failures += len(events)
            raise SimulationAborted(f"the ingest refused the token ({reason})")
        if response.status_code == 422:  # nothing in the batch was valid
            self.stats.rejected += len(events)
            self._warn(f"batch rejected, {reason}")
        else:
            self._fail(events, reason)

    def _fail(self, events: Sequence[WireEvent], reason: str) -> None:
        self.stats.failures += len(events)
        self._warn(f"{len(events)} events not delivered: {reason}")

    def _warn(self, message: str) -> None:
        # Thirty students hit the same problem: say it once, not thirty times a minute.
        if message in self._warned:
            log.debug("%s", message)
            return
        if len(self._warned) < 100:
            self._warned.add(message)
        log.warning("%s", message)

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.stats)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reason(response: httpx.Response) -> str:
    """The server's own words: `detail`, else the first rejection, else the start of the body."""
    answer = _json_object(response)
    if answer.get("detail") is not None:
        return str(answer["detail"])
    rejected = _rejections(answer)
    if rejected:
        return str(rejected[0].get("reason"))
    return response.text[:200] or response.reason_phrase


def _rejections(answer: dict[str, Any]) -> list[dict[str, Any]]:
    rejected = answer.get("rejected")
    if not isinstance(rejected, list):
        return []
    return [item for item in rejected if isinstance(item, dict)]


def _utcnow() -> datetime:
    return datetime.now(UTC)
