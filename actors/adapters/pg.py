"""One PostgreSQL round of work from synchronous code (the dashboard, the CLI): a connection
for the call, closed after it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")


def with_connection(dsn: str, call: Callable[[Any], Awaitable[T]]) -> T:
    """`call(connection)` on a fresh connection to `dsn`, run to completion."""
    return asyncio.run(on_connection(dsn, call))


async def on_connection(dsn: str, call: Callable[[Any], Awaitable[T]]) -> T:
    """`call(connection)` on a fresh connection to `dsn`, from a running event loop."""
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        return await call(connection)
    finally:
        await connection.close()
