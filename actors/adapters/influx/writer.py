"""Batched, bounded, non-blocking writes of line protocol to InfluxDB's v1 `/write` API.

The v1 `/write` endpoint (line protocol) is the one InfluxDB 1.x, 2.x (v1 compatibility) and
3.x all accept. An outage never blocks or fails the caller: `add` only
appends to a bounded buffer (dropping the oldest lines when full) and a background task sends
batches, retrying connection errors, timeouts, 429 and 5xx with exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections import deque
from typing import Any

import httpx

from actors.adapters.influx.target import DEFAULT_DATABASE, DEFAULT_URL, parse_influx_url
from cellmon.backoff import Backoff

log = logging.getLogger(__name__)

_RETRY_STATUS = frozenset({408, 429})
_UNPARSED = re.compile(r"unable to parse '")
_DROPPED = re.compile(r"\bdropped=(\d+)")


class InfluxWriter:
    """Buffers lines and writes them in batches from a background task; see the module doc."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        database: str = DEFAULT_DATABASE,
        max_buffer: int = 50_000,
        batch_size: int = 5_000,
        flush_interval_s: float = 1.0,
        max_retries: int = 5,
        *,
        retry_base_s: float = 0.25,
        retry_max_s: float = 10.0,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_buffer < 1 or batch_size < 1 or max_retries < 0 or flush_interval_s <= 0:
            raise ValueError("max_buffer, batch_size >= 1, max_retries >= 0, flush_interval_s > 0")
        self.url = url.rstrip("/")
        self.database = database
        self.max_buffer = max_buffer
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_retries = max_retries
        self._backoff = Backoff(retry_base_s, retry_max_s)
        self.timeout_s = timeout_s
        self._transport = transport
        self._buffer: deque[str] = deque()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._random = random.Random()
        self._added = self._written = self._retried = self._dropped = self._rejected = 0
        self._in_flight = 0
        self._failing = False  # inside an outage: log its start and end once each
        self._rejection_logged = False
        self.last_error: str | None = None

    # -- caller side: never blocks, never raises ------------------------------------------

    def add(self, line: str) -> None:
        """Queue one line; when the buffer is full the oldest line is dropped (and counted)."""
        self._added += 1
        if self._closed:
            self._dropped += 1
            return
        if len(self._buffer) >= self.max_buffer:
            self._buffer.popleft()
            self._dropped += 1
        self._buffer.append(line)
        if len(self._buffer) >= self.batch_size and not self._wake.is_set():
            try:
                self._wake.set()
            except RuntimeError:  # not on the loop's thread: the interval flush picks it up
                pass

    def add_many(self, lines: list[str]) -> None:
        """Queue several lines (see `add`)."""
        for line in lines:
            self.add(line)

    @property
    def counters(self) -> dict[str, int]:
        """added, written, retried (re-sends), dropped (lines lost, any cause), rejected (the part
        of dropped InfluxDB refused with a 4xx), buffered (waiting) and in_flight (being sent)."""
        return {
            "added": self._added,
            "written": self._written,
            "retried": self._retried,
            "dropped": self._dropped,
            "rejected": self._rejected,
            "buffered": len(self._buffer),
            "in_flight": self._in_flight,
        }

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background flush task; call inside a running event loop."""
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"influx-writer:{self.database}"
            )

    async def flush(self) -> None:
        """Send everything buffered now (with retries); returns when the buffer is empty."""
        await self._drain()

    async def close(self, timeout_s: float = 5.0) -> None:
        """Flush what can be sent within `timeout_s`, count the rest as dropped, and stop."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())
        _, pending = await asyncio.wait({self._task}, timeout=timeout_s)
        for task in pending:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._buffer:
            log.warning("InfluxDB writer closed with %d unsent lines (dropped)", len(self._buffer))
            self._dropped += len(self._buffer)
            self._buffer.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- background -----------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._closed:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.flush_interval_s)
            except TimeoutError:
                pass
            self._wake.clear()
            await self._drain()
        await self._drain()  # close() asked: send what is left (close bounds the time)

    async def _drain(self) -> None:
        async with self._lock:
            while self._buffer:
                take = min(self.batch_size, len(self._buffer))
                batch = [self._buffer.popleft() for _ in range(take)]
                await self._send(batch)

    async def _send(self, batch: list[str]) -> None:
        """Write one batch; every line ends up counted as written or dropped, even if cancelled."""
        n = len(batch)
        self._in_flight = n
        settled = False
        try:
            if self._client is None:
                self._client = httpx.AsyncClient(timeout=self.timeout_s, transport=self._transport)
            body = "\n".join(batch).encode("utf-8", "replace")
            for attempt in range(self.max_retries + 1):
                if attempt:
                    self._retried += 1
                    await asyncio.sleep(self._backoff.delay(attempt, None, self._random))
                reason = await self._post(body, n)
                if reason is None:
                    settled = True
                    return
                self._outage(reason)
            self._dropped += n
            settled = True
            log.debug("InfluxDB write: dropped a batch of %d lines after retries", n)
        except Exception:  # a bug here must not kill the writer
            log.exception("InfluxDB writer: unexpected error; batch of %d lines dropped", n)
        finally:
            if not settled:  # cancelled (close timed out) or failed unexpectedly
                self._dropped += n
            self._in_flight = 0

    async def _post(self, body: bytes, n: int) -> str | None:
        """One attempt: None when the batch is settled (written or rejected), else why to retry."""
        assert self._client is not None
        try:
            response = await self._client.post(
                f"{self.url}/write",
                params={"db": self.database, "precision": "ns"},
                content=body,
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        status = response.status_code
        if status < 300:
            self._written += n
            self._recovered()
            return None
        if status >= 500 or status in _RETRY_STATUS:
            return f"HTTP {status}: {response.text[:300]}"
        self._reject(status, response.text, n)
        self._recovered()
        return None

    def _reject(self, status: int, text: str, n: int) -> None:
        """A 4xx: the batch is not retried. InfluxDB 1.x still stores the valid lines of a
        "partial write" and says how many it refused; otherwise the whole batch counts as lost."""
        lost = n
        if "partial write" in text:
            dropped = _DROPPED.search(text)
            lost = len(_UNPARSED.findall(text)) + (int(dropped.group(1)) if dropped else 0)
            lost = max(0, min(n, lost))
        self._written += n - lost
        self._dropped += lost
        self._rejected += lost
        self.last_error = f"HTTP {status}: {text[:500]}"
        if not self._rejection_logged:
            self._rejection_logged = True
            log.warning(
                "InfluxDB refused %d of %d lines (further refusals are only counted): %s",
                lost,
                n,
                self.last_error,
            )

    def _outage(self, reason: str) -> None:
        self.last_error = reason
        if not self._failing:
            self._failing = True
            log.warning("InfluxDB write failed, retrying (logged once per outage): %s", reason)

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            log.warning("InfluxDB writes recovered; %d lines dropped so far", self._dropped)


def from_url(url: str, **options: Any) -> InfluxWriter:
    """An `InfluxWriter` for a settings URL such as `http://127.0.0.1:8086/cellmon`."""
    target = parse_influx_url(url)
    return InfluxWriter(target.url, target.database, **options)
