"""Instructor accounts: argon2-hashed passwords, and the classrooms each instructor may see."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()


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


def verify(dsn: str, email: str, password: str) -> Instructor | None:
    """The instructor if the password matches, else None (same answer for unknown emails)."""
    row = _run(
        dsn,
        "SELECT email, name, password_hash FROM instructors WHERE email = $1",
        email.strip().lower(),
        fetch="fetchrow",
    )
    try:
        _HASHER.verify(row["password_hash"] if row else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return Instructor(row["email"], row["name"]) if row else None


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


# Verifying against a dummy hash for unknown emails keeps the answer time the same.
_DUMMY = _HASHER.hash("no such instructor")


def _run(dsn: str, query: str, *args: Any, fetch: str = "execute") -> Any:
    async def call() -> Any:
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            return await getattr(connection, fetch)(query, *args)
        finally:
            await connection.close()

    return asyncio.run(call())
