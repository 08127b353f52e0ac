"""Pytest fixtures and helpers for tests that need PostgreSQL.

Use from a conftest.py or a test module: `from tests.support.fixtures import private_postgres`.
Tests never use the machine server's existing databases: they make their own and drop them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tests.support.private_postgres import PrivatePostgres, run_blocking

# The machine's shared server (trust auth); only ever used to create and drop our own databases.
MACHINE_SERVER_DSN = os.environ.get(
    "CELLMON_TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/test"
)
DATABASE_PREFIX = "cellmon_test_"


def with_database(dsn: str, database: str) -> str:
    """`dsn` pointed at another database on the same server."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _database_name(dsn: str) -> str:
    name = urlsplit(dsn).path.lstrip("/")
    # Identifiers cannot be bound as parameters; only our own generated names are ever dropped.
    if not name.startswith(DATABASE_PREFIX) or not name.replace("_", "").isalnum():
        raise ValueError(f"refusing to touch database {name!r}: not one of ours")
    return name


def make_database(server_dsn: str) -> str:
    """Create a uniquely named empty database on the server of `server_dsn`; return its DSN."""
    name = f"{DATABASE_PREFIX}{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(server_dsn, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    run_blocking(create)
    return with_database(server_dsn, name)


def drop_database(dsn: str, server_dsn: str | None = None) -> None:
    """Drop the database of `dsn` (made by `make_database`), closing its sessions first."""
    name = _database_name(dsn)

    async def drop() -> None:
        # Connect through another database (default `postgres`): a database cannot drop itself.
        conn = await asyncpg.connect(server_dsn or with_database(dsn, "postgres"), timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    run_blocking(drop)


@contextmanager
def temporary_database(server_dsn: str = MACHINE_SERVER_DSN) -> Iterator[str]:
    """A fresh `cellmon_test_<random>` database on the server, dropped (FORCE) at the end."""
    dsn = make_database(server_dsn)
    try:
        yield dsn
    finally:
        drop_database(dsn, server_dsn)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started private PostgreSQL server for this test, destroyed afterwards."""
    with PrivatePostgres() as server:
        yield server


@pytest.fixture
def machine_database() -> Iterator[str]:
    """DSN of a fresh database on the machine's PostgreSQL, dropped afterwards."""
    with temporary_database(MACHINE_SERVER_DSN) as dsn:
        yield dsn
