"""Instructor accounts: argon2-hashed passwords, and the classrooms each instructor may see.

Sign-ins are throttled (actors.domain.throttle) per account and per client, and at most
`CONCURRENT_CHECKS` passwords are checked at once per process: an argon2 check holds 64 MiB
and a PostgreSQL connection, so a flood of attempts queues instead of exhausting either.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from actors.adapters.pg import with_connection
from actors.domain.throttle import locked_until

_HASHER = PasswordHasher()
CONCURRENT_CHECKS = 2
MAX_PASSWORD_CHARS = 1_000
_CHECKS = threading.BoundedSemaphore(CONCURRENT_CHECKS)


class SignInThrottled(Exception):
    """Too many failed sign-ins: try again after `wait_s` seconds."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"too many failed sign-ins; try again in {wait_s:.0f} s")
        self.wait_s = wait_s


@dataclass(frozen=True)
class Instructor:
    email: str
    name: str


def add_instructor(dsn: str, email: str, name: str, password: str) -> None:
    """Create the account, or change its name and password if it exists."""
    if len(password) < 8:
        raise ValueError("the password must have at least 8 characters")
    _run(
        dsn,
        "INSERT INTO instructors (email, name, password_hash) VALUES ($1, $2, $3)"
        " ON CONFLICT (email) DO UPDATE SET name = excluded.name,"
        " password_hash = excluded.password_hash",
        email.strip().lower(),
        name,
        _HASHER.hash(password),
    )


def grant(dsn: str, email: str, classroom_id: str) -> None:
    """Let the instructor see the classroom (idempotent)."""
    _run(
        dsn,
        "INSERT INTO classroom_instructors (classroom_id, email) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING",
        classroom_id,
        email.strip().lower(),
    )


def verify(
    dsn: str, email: str, password: str, client: str = "", now: datetime | None = None
) -> Instructor | None:
    """The instructor if the password matches, else None (same answer for unknown emails);
    SignInThrottled, without checking the password, while the account or client must wait."""
    now = now or datetime.now(UTC)
    keys = [f"account:{email.strip().lower()}", f"client:{client}"]
    with _CHECKS:
        return asyncio.run(_verify(dsn, email.strip().lower(), password, keys, now))


async def _verify(
    dsn: str, email: str, password: str, keys: list[str], now: datetime
) -> Instructor | None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        waits = await connection.fetch(
            "SELECT locked_until FROM login_failures WHERE key = ANY($1) AND locked_until > $2",
            keys,
            now,
        )
        if waits:
            raise SignInThrottled(max((w[0] - now).total_seconds() for w in waits))
        row = await connection.fetchrow(
            "SELECT email, name, password_hash FROM instructors WHERE email = $1", email
        )
        if row is not None and _matches(row["password_hash"], password):
            await connection.execute("DELETE FROM login_failures WHERE key = $1", keys[0])
            return Instructor(row["email"], row["name"])
        if row is None:
            _matches(_DUMMY, password)  # the same time as a wrong password
        await _count_failure(connection, keys, now)
        return None
    finally:
        await connection.close()


def _matches(password_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        return bool(_HASHER.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


async def _count_failure(connection: Any, keys: list[str], now: datetime) -> None:
    for key in keys:
        failures = await connection.fetchval(
            "INSERT INTO login_failures (key, failures) VALUES ($1, 1) ON CONFLICT (key) DO"
            " UPDATE SET failures = login_failures.failures + 1, updated_at = now()"
            " RETURNING failures",
            key,
        )
        await connection.execute(
            "UPDATE login_failures SET locked_until = $2 WHERE key = $1",
            key,
            locked_until(failures, now),
        )


def classrooms_of(dsn: str, email: str) -> list[dict[str, str]]:
    """The classrooms the instructor may see, by name."""
    rows = _run(
        dsn,
        "SELECT c.classroom_id, c.name FROM classrooms c"
        " JOIN classroom_instructors ci USING (classroom_id)"
        " WHERE ci.email = $1 ORDER BY c.name",
        email.strip().lower(),
        fetch="fetch",
    )
    return [{"classroom_id": r["classroom_id"], "name": r["name"]} for r in rows]


class NoInstructorAccount(LookupError):
    """A school's identity provider signed someone in who has no instructor account here."""


SESSION_PREFIX = "cmd_"  # a dashboard session token, as the browser's cookie holds it


def open_session(dsn: str, email: str, lasts: timedelta, now: datetime | None = None) -> str:
    """A new sign-in for the instructor; returns its token (only its digest is stored).
    Sessions long expired are deleted on the way, so the table stays small."""
    now = now or datetime.now(UTC)
    token = SESSION_PREFIX + secrets.token_urlsafe(32)

    async def call(connection: Any) -> None:
        await connection.execute(
            "DELETE FROM instructor_sessions WHERE expires_at < $1", now - timedelta(days=1)
        )
        await connection.execute(
            "INSERT INTO instructor_sessions (token_digest, email, created_at, expires_at)"
            " VALUES ($1, $2, $3, $4)",
            _digest(token),
            email.strip().lower(),
            now,
            now + lasts,
        )

    with_connection(dsn, call)
    return token


def session_instructor(dsn: str, token: str, now: datetime | None = None) -> Instructor | None:
    """The instructor whose session this is, while it is neither expired nor ended."""
    if not token.startswith(SESSION_PREFIX) or len(token) > 200:
        return None
    row = _run(
        dsn,
        "SELECT i.email, i.name FROM instructor_sessions s JOIN instructors i USING (email)"
        " WHERE s.token_digest = $1 AND s.ended_at IS NULL AND s.expires_at > $2",
        _digest(token),
        now or datetime.now(UTC),
        fetch="fetchrow",
    )
    return Instructor(row["email"], row["name"]) if row else None


def sso_session(
    dsn: str, email: str, issued_at: datetime, lasts: timedelta, now: datetime | None = None
) -> tuple[str, Instructor] | None:
    """A session for the instructor a school's identity provider vouched for (single sign-on,
    no password here); None when the identity was issued before their last sign-out (a browser
    still holding it must go through the provider again). NoInstructorAccount: nobody has
    that email here."""
    row = _run(
        dsn,
        "SELECT email, name, sso_not_before FROM instructors WHERE email = $1",
        email.strip().lower(),
        fetch="fetchrow",
    )
    if row is None:
        raise NoInstructorAccount(email)
    if row["sso_not_before"] is not None and issued_at < row["sso_not_before"]:
        return None
    return open_session(dsn, row["email"], lasts, now), Instructor(row["email"], row["name"])


def end_session(dsn: str, token: str) -> None:
    """Sign out: the token stops working in every tab at once, and so does a single sign-on
    identity issued before now."""
    _run(
        dsn,
        "WITH ended AS (UPDATE instructor_sessions SET ended_at = now()"
        " WHERE token_digest = $1 AND ended_at IS NULL RETURNING email)"
        # Whole seconds, as an ID token's iat: a sign-in right after a sign-out stays valid.
        " UPDATE instructors SET sso_not_before = date_trunc('second', now())"
        " WHERE email IN (SELECT email FROM ended)",
        _digest(token),
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


# Verifying against a dummy hash for unknown emails keeps the answer time the same.
_DUMMY = _HASHER.hash("no such instructor")


def _run(dsn: str, query: str, *args: Any, fetch: str = "execute") -> Any:
    async def call(connection: Any) -> Any:
        return await getattr(connection, fetch)(query, *args)

    return with_connection(dsn, call)
