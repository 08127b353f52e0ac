"""Help and escalation alerts on Redis pub/sub, one channel per classroom.

`publish` never blocks and never raises: alerts go to a bounded queue that a background task
sends. When Redis is down they are dropped and counted (the dashboard still has the snapshot,
which carries the same help queue); nothing about event ingestion waits for Redis.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

import orjson
import redis.asyncio as aioredis

from cellmon.views import Alert, alert_channel

log = logging.getLogger("cellmon.alerts")


class RedisPublisher:
    """Fire-and-forget publisher with counters: published, dropped."""

    def __init__(self, url: str, max_queue: int = 10_000) -> None:
        self._url = url
        self._queue: deque[tuple[str, bytes]] = deque(maxlen=max_queue)
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.published = self.dropped = 0

    def publish(self, classroom_id: str, alert: Alert) -> None:
        """Queue the alert; the oldest is dropped (and counted) when the queue is full."""
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append((alert_channel(classroom_id), orjson.dumps(alert)))
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())
        assert self._wake is not None
        self._wake.set()

    async def _run(self) -> None:
        client = aioredis.from_url(self._url, socket_connect_timeout=1, socket_timeout=2)
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                name, message = self._queue[0]
                try:
                    await client.publish(name, message)
                except (aioredis.RedisError, OSError) as error:
                    self.dropped += len(self._queue)
                    log.warning("Redis unavailable, %d alerts dropped: %s", len(self._queue), error)
                    self._queue.clear()
                    break
                self._queue.popleft()
                self.published += 1
