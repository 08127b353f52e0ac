"""Researcher credentials, their study's classrooms and key, the audit of their reads, and the
event log read in seq ranges (so a term of events is read in parallel, one range per task)."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from actors.adapters.pg import with_connection
from actors.domain.pseudonyms import event_row, readable

TOKEN_PREFIX = "cmr_"  # tells a researcher's token from an instructor's at a glance


@dataclass(frozen=True)
class Researcher:
    name: str
    study_key: bytes
    classrooms: frozenset[str]


def add(dsn: str, name: str, classrooms: list[str]) -> str:
    """Create the researcher (a new study key) or give them a new token (the old one stops
    working; the key, so the pseudonyms, stay); grant `classrooms`. The token, shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)

    async def call(connection: Any) -> None:
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO researchers (name, token_digest, study_key) VALUES ($1, $2, $3)"
                " ON CONFLICT (name) DO UPDATE SET token_digest = excluded.token_digest",
                name,
                digest(token),
                secrets.token_bytes(32),
            )
            for classroom_id in classrooms:
                await _grant(connection, name, classroom_id)

    with_connection(dsn, call)
    return token


def grant(dsn: str, name: str, classroom_id: str) -> None:
    """Add a classroom to the researcher's study (idempotent)."""

    async def call(connection: Any) -> None:
        await _grant(connection, name, classroom_id)

    with_connection(dsn, call)


async def _grant(connection: Any, name: str, classroom_id: str) -> None:
    await connection.execute(
        "INSERT INTO researcher_classrooms (name, classroom_id) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING",
        name,
        classroom_id,
    )


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def authorize(connection: Any, token: str) -> Researcher | None:
    """The researcher this token is, with their classrooms; None for any other token."""
    return await _researcher(connection, "r.token_digest = $1", digest(token))


async def study(connection: Any, name: str) -> Researcher | None:
    """A researcher's study (key and classrooms) by name, for an export made for them."""
    return await _researcher(connection, "r.name = $1", name)


async def _researcher(connection: Any, where: str, value: str) -> Researcher | None:
    row = await connection.fetchrow(
        "SELECT r.name, r.study_key,"
        " array_remove(array_agg(c.classroom_id), NULL) AS classrooms"
        f" FROM researchers r LEFT JOIN researcher_classrooms c USING (name) WHERE {where}"
        " GROUP BY r.name, r.study_key",
        value,
    )
    if row is None:
        return None
    return Researcher(row["name"], bytes(row["study_key"]), frozenset(row["classrooms"]))


async def audit(
    connection: Any,
    researcher: str,
    action: str,
    classroom_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a read: who, what, where; the detail is the query's arguments, never data."""
    await connection.execute(
        "INSERT INTO research_audit (researcher, action, classroom_id, detail)"
        " VALUES ($1, $2, $3, $4::jsonb)",
        researcher,
        action,
        classroom_id,
        json.dumps(detail or {}, default=str),
    )


@dataclass(frozen=True)
class Consent:
    """A classroom's consent question as the log has it now: asked or not, and each student's
    latest answer."""

    required: bool
    answers: dict[str, bool]

    def readable(self, student_id: str) -> bool:
        return readable(student_id, self.required, self.answers.get(student_id))

    def research_rows(self, key: bytes, logged: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Logged events (`events_in_range`) as research rows under the study's key, only
        those research may read."""
        return [event_row(key, row) for row in logged if self.readable(row["student_id"])]


async def consent(connection: Any, classroom_id: str) -> Consent:
    """The classroom's current consent policy and answers, from the log."""
    rows = await connection.fetch(
        "SELECT DISTINCT ON (type, student_id) type, student_id, payload::text AS payload"
        " FROM events WHERE classroom_id = $1 AND type IN ('consent', 'consent_policy')"
        " ORDER BY type, student_id, seq DESC",
        classroom_id,
    )
    required, answers = False, {}
    for row in rows:
        payload = json.loads(row["payload"])
        if row["type"] == "consent_policy":
            required = bool(payload["required"])
        else:
            answers[row["student_id"]] = bool(payload["research"])
    return Consent(required, answers)


def seq_ranges(low: int, high: int, size: int) -> list[tuple[int, int]]:
    """[low, high] cut into inclusive ranges of at most `size` seqs, in order: the log is read
    a range at a time, so a term never has to fit in one read."""
    return [(start, min(start + size - 1, high)) for start in range(low, high + 1, size)]


async def seq_bounds(
    connection: Any, classroom_id: str, since: datetime | None, until: datetime | None
) -> tuple[int, int] | None:
    """The first and last seq of the classroom's events in [since, until), or None."""
    row = await connection.fetchrow(
        "SELECT min(seq) AS low, max(seq) AS high FROM events WHERE classroom_id = $1"
        " AND ($2::timestamptz IS NULL OR time >= $2) AND ($3::timestamptz IS NULL OR time < $3)",
        classroom_id,
        since,
        until,
    )
    if row is None or row["low"] is None:
        return None
    return int(row["low"]), int(row["high"])


async def events_in_range(
    dsn: str,
    classroom_id: str,
    low: int,
    high: int,
    since: datetime | None,
    until: datetime | None,
) -> list[dict[str, Any]]:
    """The classroom's events with low <= seq <= high in [since, until), payload as a dict."""
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = await connection.fetch(
            "SELECT seq, classroom_id, student_id, type, time, received_at, payload::text"
            " AS payload FROM events WHERE classroom_id = $1 AND seq BETWEEN $2 AND $3"
            " AND ($4::timestamptz IS NULL OR time >= $4)"
            " AND ($5::timestamptz IS NULL OR time < $5) ORDER BY seq",
            classroom_id,
            low,
            high,
            since,
            until,
        )
    finally:
        await connection.close()
    return [{**dict(row), "payload": json.loads(row["payload"])} for row in rows]
