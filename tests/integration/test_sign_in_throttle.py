"""Failed sign-ins slow down the next ones, per account and per client; a correct password
still works once the wait is over (a real PostgreSQL, an injected clock)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from actors.adapters import accounts
from actors.adapters.stores.migrate import upgrade
from actors.domain.throttle import FREE_FAILURES

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
EMAIL, PASSWORD = "ms.ito@example.edu", "correct horse battery"


@pytest.fixture
def dsn(machine_database: str) -> str:
    async def migrate() -> None:
        connection = await asyncpg.connect(machine_database)
        try:
            await upgrade(connection)
        finally:
            await connection.close()

    asyncio.run(migrate())
    accounts.add_instructor(machine_database, EMAIL, "Ms Ito", PASSWORD)
    return machine_database


def attempts(dsn: str, password: str, n: int, client: str, at: datetime) -> list[object]:
    return [accounts.verify(dsn, EMAIL, password, client, now=at) for _ in range(n)]


def test_failures_lock_the_account_then_the_right_password_works_again(dsn: str) -> None:
    assert attempts(dsn, "wrong", FREE_FAILURES - 1, "10.0.0.1", T0) == [None] * 4
    assert accounts.verify(dsn, EMAIL, PASSWORD, "10.0.0.1", now=T0) is not None  # still free
    for n in range(FREE_FAILURES):  # guesses from five machines: the account locks
        assert accounts.verify(dsn, EMAIL, "wrong", f"10.0.1.{n}", now=T0) is None
    with pytest.raises(accounts.SignInThrottled) as locked:  # even the right password waits
        accounts.verify(dsn, EMAIL, PASSWORD, "10.0.0.2", now=T0 + timedelta(seconds=1))
    assert 0 < locked.value.wait_s <= 2
    later = T0 + timedelta(seconds=3)
    assert accounts.verify(dsn, EMAIL, PASSWORD, "10.0.0.3", now=later) is not None


def test_the_wait_grows_with_each_failure(dsn: str) -> None:
    waits = []
    at = T0
    for _ in range(4):
        attempts(dsn, "wrong", 1 if waits else FREE_FAILURES, "10.0.0.9", at)
        with pytest.raises(accounts.SignInThrottled) as locked:
            accounts.verify(dsn, EMAIL, "wrong", "10.0.0.9", now=at)
        waits.append(locked.value.wait_s)
        at += timedelta(seconds=locked.value.wait_s + 0.001)
    assert waits == sorted(waits) and waits[-1] >= 4 * waits[0]


def test_one_client_guessing_many_accounts_is_slowed_too(dsn: str) -> None:
    for n in range(FREE_FAILURES):
        accounts.verify(dsn, f"guess{n}@example.edu", "wrong", "10.6.6.6", now=T0)
    with pytest.raises(accounts.SignInThrottled):
        accounts.verify(dsn, EMAIL, PASSWORD, "10.6.6.6", now=T0)
    assert accounts.verify(dsn, EMAIL, PASSWORD, "10.0.0.5", now=T0) is not None  # others not


def test_a_huge_password_is_refused_without_hashing_it(dsn: str) -> None:
    assert accounts.verify(dsn, EMAIL, "x" * 1_000_000, "10.0.0.7", now=T0) is None
