"""Dashboard sessions in a real PostgreSQL: a token works until it expires or is ended, only
its digest is stored, and long-expired sessions are swept (an injected clock)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from actors.adapters import accounts
from tests.integration.test_sign_in_throttle import EMAIL, dsn

pytestmark = pytest.mark.integration
__all__ = ["dsn"]  # the fixture: a migrated database with Ms Ito's account
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=12)


def stored(dsn: str) -> list[str]:
    async def read() -> list[str]:
        connection = await asyncpg.connect(dsn)
        try:
            rows = await connection.fetch("SELECT token_digest FROM instructor_sessions")
        finally:
            await connection.close()
        return [row[0] for row in rows]

    return asyncio.run(read())


def test_a_session_lives_until_it_expires(dsn: str) -> None:
    token = accounts.open_session(dsn, EMAIL.upper(), DAY, now=T0)
    found = accounts.session_instructor(dsn, token, now=T0 + DAY - timedelta(seconds=1))
    assert found == accounts.Instructor(EMAIL, "Ms Ito")
    assert accounts.session_instructor(dsn, token, now=T0 + DAY) is None
    assert token not in stored(dsn), "only a digest is kept"


def test_ending_a_session_ends_only_that_one(dsn: str) -> None:
    laptop = accounts.open_session(dsn, EMAIL, DAY, now=T0)
    lab_pc = accounts.open_session(dsn, EMAIL, DAY, now=T0)
    accounts.end_session(dsn, lab_pc)
    assert accounts.session_instructor(dsn, lab_pc, now=T0) is None
    assert accounts.session_instructor(dsn, laptop, now=T0) is not None


@pytest.mark.parametrize("token", ["", "cmd_", "cmd_nope", "x" * 10_000, "cmd_\x00\ud800"])
def test_unknown_or_hostile_tokens_find_nobody(dsn: str, token: str) -> None:
    assert accounts.session_instructor(dsn, token, now=T0) is None
    accounts.end_session(dsn, token)  # a no-op, never an error


def test_sessions_expired_a_day_ago_are_swept(dsn: str) -> None:
    before = set(stored(dsn))
    accounts.open_session(dsn, EMAIL, DAY, now=T0 - timedelta(days=3))
    accounts.open_session(dsn, EMAIL, DAY, now=T0)
    assert len(set(stored(dsn)) - before) == 1


def test_a_school_identity_opens_a_session_until_a_sign_out_voids_it(dsn: str) -> None:
    issued = datetime.now(UTC) - timedelta(minutes=5)  # the provider's iat: before the sign-out
    opened = accounts.sso_session(dsn, EMAIL.upper(), issued, DAY)
    assert opened is not None
    token, who = opened
    assert who == accounts.Instructor(EMAIL, "Ms Ito")
    assert accounts.session_instructor(dsn, token) == who
    accounts.end_session(dsn, token)
    assert accounts.sso_session(dsn, EMAIL, issued, DAY) is None, "the browser's old identity"
    again = accounts.sso_session(dsn, EMAIL, datetime.now(UTC) + timedelta(seconds=1), DAY)
    assert again is not None, "a new trip through the provider signs in"


def test_a_school_identity_without_an_account_is_refused(dsn: str) -> None:
    with pytest.raises(accounts.NoInstructorAccount):
        accounts.sso_session(dsn, "stranger@school.example", datetime.now(UTC), DAY)
