"""The demo's embedded PostgreSQL: reachability probe, start, reuse, stop and a durable restart."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from cellmon_cli.embedded import (
    SECRET_FILE,
    postgres_reachable,
    start_embedded_postgres,
    stop_embedded_postgres,
)

pytestmark = pytest.mark.integration

MACHINE_SERVER_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def admin_dsn(dsn: str) -> str:
    """The same server's `postgres` maintenance database."""
    return dsn.rsplit("/", 1)[0] + "/postgres"


def execute(dsn: str, *statements: str) -> list[asyncpg.Record]:
    """Run statements on one connection; return the rows of the last one."""

    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            for statement in statements[:-1]:
                await conn.execute(statement)
            return await conn.fetch(statements[-1])
        finally:
            await conn.close()

    return asyncio.run(run())


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    """A state dir whose embedded server, if any test started one, is stopped afterwards."""
    try:
        yield tmp_path
    finally:
        stop_embedded_postgres(tmp_path)


def test_reachable_for_the_machine_server() -> None:
    assert postgres_reachable(MACHINE_SERVER_DSN)


def test_unreachable_for_a_closed_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        assert not postgres_reachable(f"postgresql://postgres@127.0.0.1:{port}/cellmon", 1.0)


def test_start_reuse_stop_and_restart_keep_the_data(state_dir: Path) -> None:
    dsn = start_embedded_postgres(state_dir)
    assert dsn.startswith("postgresql://postgres:") and dsn.endswith("/cellmon")
    assert postgres_reachable(dsn)  # the server answers although `cellmon` does not exist yet

    # What the migration step does: create the database from the maintenance database.
    execute(admin_dsn(dsn), "CREATE DATABASE cellmon")
    execute(dsn, "CREATE TABLE kept (n int)", "INSERT INTO kept VALUES (42)", "SELECT 1")
    assert start_embedded_postgres(state_dir) == dsn  # reused: same server, same port

    assert stop_embedded_postgres(state_dir) is True
    assert not postgres_reachable(dsn, 1.0)
    assert stop_embedded_postgres(state_dir) is False

    again = start_embedded_postgres(state_dir)
    assert again == dsn  # the port was still free, so the old DSN keeps working
    assert [row["n"] for row in execute(again, "SELECT n FROM kept")] == [42]
    assert (state_dir / "embedded-postgres" / "data" / "PG_VERSION").exists()


def test_stop_without_a_server(tmp_path: Path) -> None:
    assert stop_embedded_postgres(tmp_path) is False


def passwordless(dsn: str) -> str:
    """The same server and database, without the password."""
    return "postgresql://postgres@" + dsn.split("@", 1)[1]


def test_only_the_password_gets_in(state_dir: Path) -> None:
    dsn = start_embedded_postgres(state_dir)
    secret = state_dir / SECRET_FILE
    assert secret.stat().st_mode & 0o777 == 0o600 and secret.read_text() in dsn
    with pytest.raises((asyncpg.InvalidAuthorizationSpecificationError, asyncpg.PostgresError,
                        asyncpg.InterfaceError)):  # fmt: skip
        execute(admin_dsn(passwordless(dsn)), "SELECT 1")
    assert execute(admin_dsn(dsn), "SELECT 1")[0][0] == 1


def test_a_data_dir_that_trusted_local_users_is_locked_down(state_dir: Path) -> None:
    dsn = start_embedded_postgres(state_dir)
    stop_embedded_postgres(state_dir)
    hba = state_dir / "embedded-postgres" / "data" / "pg_hba.conf"
    hba.write_text(hba.read_text().replace("scram-sha-256", "trust"))  # as older versions made it
    assert start_embedded_postgres(state_dir) == dsn
    assert "trust" not in hba.read_text().split("TYPE", 1)[1]
    with pytest.raises((asyncpg.InvalidAuthorizationSpecificationError, asyncpg.PostgresError,
                        asyncpg.InterfaceError)):  # fmt: skip
        execute(admin_dsn(passwordless(dsn)), "SELECT 1")
