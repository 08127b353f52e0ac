"""Sends spooled events to the ingest in batches, at least once, with backoff and Retry-After."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from jupyter_ext.spool import Spool

log = logging.getLogger(__name__)


@dataclass
class SenderStatus:
    """What the student's status bar shows about delivery."""

    connected: bool | None = None  # None: nothing tried yet
    unauthorized: bool = False
    last_error: str | None = None
    sent: int = 0


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_s(failures: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: half fixed, half random, so clients spread out."""
    ceiling = min(max_s, base_s * (2 ** max(0, failures - 1)))
    return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


class Sender:
    """Drains a `Spool` into `POST {url}/api/v1/events`; one batch in flight at a time."""

    def __init__(
        self,
        spool: Spool,
        url: str,
        token: str,
        *,
        batch_size: int = 100,
        interval_s: float = 1.0,
        base_backoff_s: float = 0.5,
        max_backoff_s: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.spool, self.batch_size, self.interval_s = spool, batch_size, interval_s
        self.base_backoff_s, self.max_backoff_s = base_backoff_s, max_backoff_s
        self.status = SenderStatus()
        self._url = url.rstrip("/") + "/api/v1/events"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._client = httpx.AsyncClient(transport=transport, timeout=30.0)
        self._rng = rng or random.Random()
        self._failures = 0
        self._limit = batch_size  # shrinks after 413 so one huge event cannot block the rest
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """A new event was spooled: send now if a batch is full."""
        if self.spool.count() >= self.batch_size:
            self._wake.set()

    def start(self) -> None:
        """Start the background loop on the running event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the loop; unsent events stay in the spool for the next start."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._client.aclose()

    async def _run(self) -> None:
        delay = 0.0
        while not self.status.unauthorized:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.01))
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                delay = await self.send_once()
            except Exception:  # never let the loop die: events would pile up unseen
                log.exception("cell monitor sender failed")
                delay = self.interval_s
        log.error("cell monitor: the ingest refused the token; sending stopped")

    async def send_once(self) -> float:
        """Send one batch; returns how long to wait before the next attempt."""
        batch = self.spool.peek(self._limit)
        if not batch:
            return self.interval_s
        seqs = [seq for seq, _ in batch]
        try:
            response = await self._client.post(
                self._url, json=[event for _, event in batch], headers=self._headers
            )
        except httpx.HTTPError as error:
            return self._failed(f"cannot reach the ingest: {type(error).__name__}: {error}")
        return self._handle(response, seqs)

    def _handle(self, response: httpx.Response, seqs: list[int]) -> float:
        code = response.status_code
        if code in (200, 202):
            body = _json(response)
            self._log_rejected(body)
            self.spool.delete(seqs)  # accepted, duplicates and rejects are all done with
            self._ok(len(seqs))
            return 0.0 if self.spool.count() >= self.batch_size else self.interval_s
        if code in (401, 403):
            self.status.unauthorized, self.status.connected = True, False
            self.status.last_error = f"ingest refused the token ({code}): {response.text[:200]}"
            return self.interval_s
        if code == 422:
            self._log_rejected(_json(response))
            self.spool.delete(seqs)
            return 0.0
        if code in (413, 400) or (400 <= code < 500 and code not in (408, 429)):
            return self._too_big(seqs, code)
        wait = retry_after_s(response.headers.get("retry-after"))
        delay = self._failed(f"ingest answered {code}: {response.text[:200]}")
        return max(delay, wait) if wait is not None else delay

    def _too_big(self, seqs: list[int], code: int) -> float:
        if len(seqs) > 1:
            self._limit = max(1, len(seqs) // 2)  # split the batch and try the halves
            return 0.0
        log.error("cell monitor: ingest refused event (seq %d) with %d; dropped", seqs[0], code)
        self.spool.delete(seqs)
        self._limit = self.batch_size
        return 0.0

    def _ok(self, count: int) -> None:
        self._failures = 0
        self._limit = self.batch_size
        self.status.connected, self.status.last_error = True, None
        self.status.sent += count

    def _failed(self, reason: str) -> float:
        self._failures += 1
        self.status.connected, self.status.last_error = False, reason
        delay = backoff_s(self._failures, self.base_backoff_s, self.max_backoff_s, self._rng)
        log.warning("cell monitor: %s; retrying in %.1f s", reason, delay)
        return delay

    @staticmethod
    def _log_rejected(body: dict[str, Any]) -> None:
        for item in body.get("rejected") or []:
            log.warning("cell monitor: ingest rejected event %s: %s", item.get("event_id"), item)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
