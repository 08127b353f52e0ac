"""Waiting on conditions, never on sleeps: poll a check until it holds or a deadline passes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
POLL_S = 0.05


def wait_until(check: Callable[[], T], timeout_s: float = 30.0, what: str = "condition") -> T:
    """The first truthy value of `check()`; AssertionError naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(POLL_S)


async def async_wait_until(
    check: Callable[[], T | Awaitable[T]], timeout_s: float = 30.0, what: str = "condition"
) -> T:
    """`wait_until` for a running event loop; `check` may be sync or async."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        await asyncio.sleep(POLL_S)
