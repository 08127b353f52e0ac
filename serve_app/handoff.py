"""Hand accepted events to the shard actors, detached from the HTTP request's lifetime, and
coalesced: batches for a classroom that arrive while its previous call is in flight go
together in the next call.

Detached: Serve cancels a request's task when its client disconnects or times out. If the
actor call lives in that task it is cancelled too, and (measured here) later calls from the
replica were silently dropped for ~30 s. So calls run in a task of their own, created in a
fresh context (no Serve request context to inherit), and a request only awaits its answer
through `shield`.

Coalesced: an actor call costs about as much CPU as a whole small request (BENCHMARKS.md), so
under load one call carries every batch that waited for it. With nothing in flight, a batch
goes at once: coalescing adds no latency.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

# Sends the waiting batches of one key in one call; answers one result per batch, in order.
SendMany = Callable[[list[Any]], Awaitable[list[Any]]]


class Handoff:
    """Per key (a classroom): one call in flight, and a queue for the next."""

    def __init__(self) -> None:
        self._waiting: dict[Hashable, list[tuple[Any, asyncio.Future[Any]]]] = {}
        self._waiting_since: dict[Hashable, float] = {}  # the oldest waiting batch's arrival
        self._senders: dict[Hashable, asyncio.Task[None]] = {}

    async def deliver(self, key: Hashable, batch: Any, send_many: SendMany) -> Any:
        """`batch`'s own result; a cancelled caller does not cancel the delivery."""
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if key not in self._waiting:
            self._waiting_since[key] = time.monotonic()
        self._waiting.setdefault(key, []).append((batch, answer))
        if key not in self._senders:
            task = asyncio.get_running_loop().create_task(
                self._send_waiting(key, send_many), context=contextvars.Context()
            )
            self._senders[key] = task  # also keeps the task referenced (the loop holds it weakly)
        return await asyncio.shield(answer)

    async def _send_waiting(self, key: Hashable, send_many: SendMany) -> None:
        try:
            while group := self._waiting.pop(key, None):
                self._waiting_since.pop(key, None)
                try:
                    results = await send_many([batch for batch, _ in group])
                except Exception as error:  # every waiting caller gets it
                    for _, answer in group:
                        if not answer.done():
                            answer.set_exception(error)
                    continue
                for (_, answer), result in zip(group, results, strict=True):
                    if not answer.done():
                        answer.set_result(result)
        finally:
            del self._senders[key]

    def waited_s(self, key: Hashable, now: float) -> float:
        """How long the oldest batch waiting for `key`'s next call has waited (0: none)."""
        since = self._waiting_since.get(key)
        return 0.0 if since is None else now - since

    def longest_wait_s(self, now: float) -> float:
        """The longest any key's oldest batch has waited (0: none waits)."""
        return max((now - since for since in self._waiting_since.values()), default=0.0)

    @property
    def in_flight(self) -> int:
        """Batches waiting for a call, plus calls in flight (one per classroom), including those
        whose request has gone."""
        waiting = sum(len(group) for group in self._waiting.values())
        return waiting + len(self._senders)
