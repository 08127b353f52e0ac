"""Sends spooled events to the ingest in batches, at least once, with backoff and Retry-After.

What each answer does to the spool is decided in `answers.judge`; this module does the I/O and
the waiting: back off on failures, pause on a refused token and re-check every few minutes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from cellmon.backoff import Backoff
from jupyter_ext.answers import Inbox, Verdict, judge
from jupyter_ext.spool import Spool

log = logging.getLogger(__name__)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str, a valid pair is one code point


@dataclass
class SenderStatus:
    """What the student's status bar shows about delivery."""

    connected: bool | None = None  # None: nothing tried yet
    unauthorized: bool = False  # paused: the token was refused
    cause: str | None = None  # short reason, e.g. "server URL looks wrong: 404"
    last_error: str | None = None  # the server's answer or the network error, for the tooltip
    sent: int = 0
    refused: int = 0  # events the server judged and refused for good (logged with reasons)
    next_attempt_at: float | None = None  # time.monotonic() of the next try while failing

    def retry_in_s(self) -> float | None:
        """Seconds until the next attempt while failing or paused, else None."""
        at = self.next_attempt_at
        return None if at is None else max(0.0, round(at - time.monotonic(), 1))


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
        token_recheck_s: float = 180.0,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.spool, self.batch_size, self.interval_s = spool, batch_size, interval_s
        self.max_backoff_s = max_backoff_s
        self._backoff = Backoff(base_backoff_s, max_backoff_s)
        self.token_recheck_s = token_recheck_s
        self.status = SenderStatus()
        self._url = url.rstrip("/") + "/api/v1/events"
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._client = httpx.AsyncClient(transport=transport, timeout=30.0)
        self._rng = rng or random.Random()
        self._failures = 0
        self._limit = batch_size  # shrinks after 413 so one huge event cannot block the rest
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Told what the server said about the student (hand, messages) with the ids of the
        # batch it answered: the answer describes the state after those events.
        self.on_inbox: Callable[[Inbox, list[str]], None] | None = None

    def notify(self) -> None:
        """A new event was spooled: send now if a batch is full (never cutting a wait short)."""
        if not self._waiting() and self.spool.count() >= self.batch_size:
            self._wake.set()

    def flush(self) -> None:
        """Send what waits now (a raised hand, a poll), unless backing off or paused."""
        if not self._waiting():
            self._wake.set()

    def _waiting(self) -> bool:
        """Backing off after failures, or paused on a refused token: no early send."""
        return self._failures > 0 or self.status.unauthorized

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
        while True:  # never ends by itself: a refused token pauses, then re-checks
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.01))
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                delay = await self.send_once()
            except Exception as error:  # never let the loop die: events would pile up unseen
                log.exception("cell monitor sender failed")
                delay = self._failed("sender error: ask your instructor", repr(error), None)

    async def send_once(self) -> float:
        """Send one batch; returns how long to wait before the next attempt."""
        batch = self.spool.peek(self._limit)
        if not batch:
            return self.interval_s
        ids = [str(event.get("event_id")) for _, event in batch]
        try:
            response = await self._client.post(
                self._url, content=_body([e for _, e in batch]), headers=self._headers
            )
        except httpx.HTTPError as error:
            detail = f"{type(error).__name__}: {error}"
            return self._failed("cannot reach the server", detail, None)
        verdict = judge(
            response.status_code, response.content, ids, response.headers.get("retry-after")
        )
        delay = self._apply(verdict, [seq for seq, _ in batch])
        if verdict.inbox is not None and self.on_inbox is not None:
            try:
                self.on_inbox(verdict.inbox, ids)
            except Exception:  # what the student sees must never stop delivery
                log.exception("cell monitor: cannot take the server's answer")
        return delay

    def _apply(self, verdict: Verdict, seqs: list[int]) -> float:
        self._forget(verdict, seqs)
        if verdict.action == "stored":
            self._ok(len(seqs) - len(verdict.rejections), verdict)
            return 0.0 if self.spool.count() >= self.batch_size else self.interval_s
        if verdict.action == "refused":
            self._ok(0, verdict)
            return 0.0  # the spool shrank: go on with what is left
        if verdict.action == "split":
            self._limit = max(1, len(seqs) // 2)  # try the halves until one event is alone
            return 0.0
        if verdict.action == "pause":
            return self._pause(verdict)
        return self._failed(verdict.cause or "", verdict.detail, verdict.retry_after_s)

    def _forget(self, verdict: Verdict, seqs: list[int]) -> None:
        """Delete what the server judged; log every refused item with its reason."""
        for rejection in verdict.rejections:
            log.warning(
                "cell monitor: the server refused event %s (%s): %s; it will not be resent",
                rejection.event_id,
                rejection.kind,
                rejection.reason,
            )
        if verdict.unexpected_body:
            log.warning("cell monitor: counted as stored: the server answered %s", verdict.detail)
        self.spool.delete([seqs[p] for p in verdict.remove])
        self.status.refused += len(verdict.rejections)

    def _ok(self, stored: int, verdict: Verdict) -> None:
        self._failures = 0
        self._limit = self.batch_size
        self.status.connected, self.status.unauthorized = True, False
        self.status.cause, self.status.last_error = verdict.cause, verdict.detail
        self.status.next_attempt_at = None
        self.status.sent += stored

    def _pause(self, verdict: Verdict) -> float:
        self.status.connected, self.status.unauthorized = False, True
        self.status.cause, self.status.last_error = verdict.cause, verdict.detail
        self.status.next_attempt_at = time.monotonic() + self.token_recheck_s
        log.error(
            "cell monitor: the server refused the token (%s); checking again in %.0f s",
            verdict.detail,
            self.token_recheck_s,
        )
        return self.token_recheck_s

    def _failed(self, cause: str, detail: str | None, retry_after: float | None) -> float:
        self._failures += 1
        delay = self._backoff.delay(self._failures, retry_after, self._rng)
        self.status.connected, self.status.cause, self.status.last_error = False, cause, detail
        self.status.next_attempt_at = time.monotonic() + delay
        log.warning("cell monitor: %s (%s); retrying in %.1f s", cause, detail, delay)
        return delay


def _body(events: list[dict[str, Any]]) -> bytes:
    """The batch as UTF-8 JSON; a lone surrogate (no UTF-8 form) becomes U+FFFD, or the batch
    could never be encoded (nor parsed by the ingest) and would block the spool for good."""
    text = json.dumps(events, ensure_ascii=False, separators=(",", ":"))
    return _LONE_SURROGATE.sub("\ufffd", text).encode("utf-8")
