"""The private PostgreSQL harness: crash, kill and restart a server of our own, while the
machine's server stays untouched."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime

import asyncpg
import pytest

from tests.support.fixtures import MACHINE_SERVER_DSN, temporary_database
from tests.support.private_postgres import PrivatePostgres, run_blocking

pytestmark = pytest.mark.integration

# What a client sees when the server is down or its session was cut.
CONNECTION_ERRORS = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)


def machine_started_at() -> datetime:
    """When the machine's PostgreSQL last started; a change would mean someone restarted it."""

    async def query() -> datetime:
        conn = await asyncpg.connect(MACHINE_SERVER_DSN, timeout=10)
        try:
            started: datetime = await conn.fetchval("SELECT pg_postmaster_start_time()")
            return started
        finally:
            await conn.close()

    return run_blocking(query)


@pytest.fixture(autouse=True)
def _machine_server_untouched() -> Iterator[None]:
    """Every test here must leave the machine's server running, never restarted."""
    before = machine_started_at()
    yield
    assert machine_started_at() == before


async def fetch_rows(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return [row["body"] for row in await conn.fetch("SELECT body FROM notes ORDER BY id")]
    finally:
        await conn.close()


async def test_committed_rows_survive_an_immediate_stop(private_postgres: PrivatePostgres) -> None:
    pg = private_postgres
    dsn, port = pg.dsn, pg.port
    assert port != 5432
    conn = await asyncpg.connect(dsn)
    await conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
    await conn.execute("INSERT INTO notes (body) VALUES ('committed before the crash')")

    # Off the event loop, as an outage test that keeps a client streaming would do it.
    await asyncio.to_thread(pg.stop, "immediate")
    assert not pg.is_running()
    with pytest.raises(CONNECTION_ERRORS):
        await conn.fetchval("SELECT count(*) FROM notes")
    with pytest.raises(CONNECTION_ERRORS):
        await asyncpg.connect(dsn, timeout=5)
    conn.terminate()

    await asyncio.to_thread(pg.restart)
    assert (pg.dsn, pg.port) == (dsn, port)
    assert await fetch_rows(dsn) == ["committed before the crash"]


async def test_start_after_kill(private_postgres: PrivatePostgres) -> None:
    pg = private_postgres
    conn = await asyncpg.connect(pg.dsn)
    await conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
    await conn.execute("INSERT INTO notes (body) VALUES ('before SIGKILL')")
    pid = pg.postmaster_pid()

    pg.kill()
    assert not pg.is_running()
    with pytest.raises(CONNECTION_ERRORS):
        await conn.fetchval("SELECT 1")
    conn.terminate()

    pg.start()
    assert pg.postmaster_pid() != pid
    assert await fetch_rows(pg.dsn) == ["before SIGKILL"]


def test_context_exit_stops_the_server_and_removes_its_data() -> None:
    with pytest.raises(RuntimeError, match="test body failed"), PrivatePostgres() as pg:
        root, dsn = pg.root, pg.dsn
        assert root is not None and (root / "data" / "PG_VERSION").exists()
        raise RuntimeError("test body failed")
    assert root is not None and not root.exists()
    with pytest.raises(CONNECTION_ERRORS):
        run_blocking(lambda: asyncpg.connect(dsn, timeout=5))


async def database_names(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return {row["datname"] for row in await conn.fetch("SELECT datname FROM pg_database")}
    finally:
        await conn.close()


async def test_temporary_database_on_the_machine_server() -> None:
    with temporary_database(MACHINE_SERVER_DSN) as first, temporary_database() as second:
        names = {first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]}
        assert len(names) == 2 and all(n.startswith("cellmon_test_") for n in names)
        assert names <= await database_names(MACHINE_SERVER_DSN)
        # Left open on purpose: the drop must force it closed.
        conn = await asyncpg.connect(first)
        await conn.execute("CREATE TABLE t (x int)")
    assert not names & await database_names(MACHINE_SERVER_DSN)
    with pytest.raises(CONNECTION_ERRORS):
        await conn.fetchval("SELECT 1")
    conn.terminate()
