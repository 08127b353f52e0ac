"""Hand accepted events to the shard actors, detached from the HTTP request's lifetime.

Serve cancels a request's task when its client disconnects or times out. If the actor call
lives in that task it is cancelled too, and (measured here) later calls from the replica were
silently dropped for ~30 s. So each call runs in a task of its own, created in a fresh context
(no Serve request context to inherit), and the request only awaits it through `shield`.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Handoff:
    """Runs coroutines to completion whatever happens to the request that started them."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """Start `call` in its own task and wait for it; a cancelled caller does not cancel it."""
        task = asyncio.get_running_loop().create_task(_await(call), context=contextvars.Context())
        self._running.add(task)  # keep a reference: the loop holds tasks only weakly
        task.add_done_callback(self._running.discard)
        return await asyncio.shield(task)

    @property
    def in_flight(self) -> int:
        """Calls still running, including those whose request has gone."""
        return len(self._running)


async def _await(call: Callable[[], Awaitable[T]]) -> T:
    return await call()
