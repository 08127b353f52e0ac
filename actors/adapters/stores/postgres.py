"""The event log, checkpoints and registry in PostgreSQL, through an asyncpg pool."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from pydantic import TypeAdapter

from actors.adapters.stores.base import KEPT_THROUGH_RETENTION, Logged, LogUnavailable, NotOwner
from actors.domain.registry import Change, Classroom, Grant
from cellmon.contract import Event

_EVENT: TypeAdapter[Any] = TypeAdapter(Event)
# What a database outage looks like from asyncpg; anything else is a bug and must surface.
_OUTAGE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.ConnectionFailureError,
)

_APPEND = """
INSERT INTO events (classroom_id, event_id, student_id, type, time, received_at, payload)
SELECT $1, e.event_id, e.student_id, e.type, e.time, e.received_at, e.payload
FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
            $7::jsonb[]) AS e(event_id, student_id, type, time, received_at, payload)
ON CONFLICT (classroom_id, event_id) DO NOTHING
RETURNING event_id, seq
"""
# The same, only while the classroom's row says this shard (or there is no row). FOR SHARE
# holds the row until commit, so a move's UPDATE waits for this append, and an append after
# the move sees the new shard and stores nothing; the last row then names the owner.
_APPEND_AS_OWNER = """
WITH placed AS (
    SELECT shard FROM classrooms WHERE classroom_id = $1 FOR SHARE
), owner AS (
    SELECT coalesce((SELECT shard FROM placed), $8) AS shard
), new AS (
    INSERT INTO events (classroom_id, event_id, student_id, type, time, received_at, payload)
    SELECT $1, e.event_id, e.student_id, e.type, e.time, e.received_at, e.payload
    FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
                $7::jsonb[]) AS e(event_id, student_id, type, time, received_at, payload)
    WHERE (SELECT shard FROM owner) = $8
    ON CONFLICT (classroom_id, event_id) DO NOTHING
    RETURNING event_id, seq
)
SELECT event_id, seq, NULL::integer AS owner FROM new
UNION ALL
SELECT NULL, NULL, shard FROM owner WHERE shard <> $8
"""


class _NoResetConnection(asyncpg.Connection):
    """A pooled connection handed back as it is. asyncpg's pool otherwise sends
    `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every release: one
    more round trip per append (3% of a shard's CPU under load, and PostgreSQL's), to undo
    session state this store never sets (no advisory locks, cursors, LISTEN or SET here; the
    migrations' lock is on a connection of their own). An open transaction is still rolled
    back: asyncpg always does that."""

    def get_reset_query(self) -> str:
        return ""


class PostgresStore:
    """One pool per process, opened on first use inside the caller's event loop."""

    def __init__(self, dsn: str, pool_size: int = 8, application_name: str = "cellmon") -> None:
        self._dsn, self._size, self._name = dsn, pool_size, application_name
        self._pool: asyncpg.Pool | None = None

    async def _connections(self) -> asyncpg.Pool:
        if self._pool is None:
            try:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=1,
                    max_size=self._size,
                    timeout=5,
                    command_timeout=10,
                    server_settings={"application_name": self._name},
                    connection_class=_NoResetConnection,
                )
            except _OUTAGE as error:
                raise LogUnavailable(f"cannot reach PostgreSQL: {error}") from error
        return self._pool

    async def _run(self, method: str, query: str, *args: Any) -> Any:
        pool = await self._connections()
        try:
            return await getattr(pool, method)(query, *args)
        except _OUTAGE as error:
            raise LogUnavailable(f"PostgreSQL unavailable: {error}") from error

    async def append(
        self, classroom_id: str, events: list[Any], shard: int | None = None
    ) -> list[Logged]:
        """One round trip for the whole batch; re-sent events are skipped by the unique key."""
        columns = (
            [e.event_id for e in events],
            [e.student_id for e in events],
            [e.type for e in events],
            [e.time for e in events],
            [e.received_at for e in events],
            [e.model_dump_json() for e in events],
        )
        if shard is None:
            rows = await self._run("fetch", _APPEND, classroom_id, *columns)
        else:
            rows = await self._run("fetch", _APPEND_AS_OWNER, classroom_id, *columns, shard)
            for row in rows:
                if row["owner"] is not None:
                    raise NotOwner(classroom_id, row["owner"])
        seq_of = {row["event_id"]: row["seq"] for row in rows}
        new, seen = [], set()
        for event in events:  # input order; a batch may carry the same id twice
            if event.event_id in seq_of and event.event_id not in seen:
                seen.add(event.event_id)
                new.append(Logged(seq_of[event.event_id], event))
        return new

    async def read_after(self, classroom_id: str, seq: int, limit: int) -> list[Logged]:
        """Events after `seq` in log order, decoded back into contract models."""
        rows = await self._run(
            "fetch",
            "SELECT seq, payload FROM events WHERE classroom_id = $1 AND seq > $2"
            " ORDER BY seq LIMIT $3",
            classroom_id,
            seq,
            limit,
        )
        return [Logged(row["seq"], _EVENT.validate_json(row["payload"])) for row in rows]

    async def owner(self, classroom_id: str) -> int | None:
        """The classroom's shard in the registry."""
        shard: int | None = await self._run(
            "fetchval", "SELECT shard FROM classrooms WHERE classroom_id = $1", classroom_id
        )
        return shard

    async def move_classroom(self, classroom_id: str, shard: int) -> None:
        """Waits for an append in flight (it holds the row), then every later append sees it."""
        await self._run(
            "execute",
            "UPDATE classrooms SET shard = $2 WHERE classroom_id = $1",
            classroom_id,
            shard,
        )

    async def save_checkpoints(self, rows: list[tuple[str, int, dict[str, Any]]]) -> None:
        """Upsert every row in one statement."""
        await self._run(
            "execute",
            "INSERT INTO checkpoints (classroom_id, covered_seq, state, updated_at)"
            " SELECT c, s, j, now() FROM unnest($1::text[], $2::bigint[], $3::jsonb[])"
            " AS r(c, s, j) ON CONFLICT (classroom_id) DO UPDATE"
            " SET covered_seq = excluded.covered_seq, state = excluded.state,"
            " updated_at = now()"
            # a shard a classroom left may save late: never over a newer one of the next shard
            " WHERE checkpoints.covered_seq <= excluded.covered_seq",
            [r[0] for r in rows],
            [r[1] for r in rows],
            [orjson.dumps(r[2]).decode() for r in rows],
        )

    async def load_checkpoint(self, classroom_id: str) -> tuple[int, dict[str, Any]] | None:
        """The classroom's checkpoint."""
        row = await self._run(
            "fetchrow",
            "SELECT covered_seq, state FROM checkpoints WHERE classroom_id = $1",
            classroom_id,
        )
        return (row["covered_seq"], orjson.loads(row["state"])) if row else None

    async def forget_student(self, classroom_id: str, student_id: str, requested_by: str) -> int:
        """The student's events and the classroom's checkpoint out, the record in."""
        async with self._transaction() as connection:
            removed: int = await connection.fetchval(
                "WITH gone AS (DELETE FROM events WHERE classroom_id = $1"
                " AND (student_id = $2 OR payload->>'student_id' = $2) RETURNING 1)"
                " SELECT count(*) FROM gone",
                classroom_id,
                student_id,
            )
            await connection.execute(
                "DELETE FROM checkpoints WHERE classroom_id = $1", classroom_id
            )
            await connection.execute(
                "INSERT INTO forgotten (classroom_id, requested_by, events) VALUES ($1, $2, $3)",
                classroom_id,
                requested_by,
                removed,
            )
        return removed

    async def purge_before(self, classroom_id: str, before: datetime) -> int:
        """Old activity out; the checkpoint too when anything went."""
        async with self._transaction() as connection:
            removed: int = await connection.fetchval(
                "WITH gone AS (DELETE FROM events WHERE classroom_id = $1 AND received_at < $2"
                " AND type <> ALL($3::text[]) RETURNING 1) SELECT count(*) FROM gone",
                classroom_id,
                before,
                list(KEPT_THROUGH_RETENTION),
            )
            if removed:
                await connection.execute(
                    "DELETE FROM checkpoints WHERE classroom_id = $1", classroom_id
                )
        return removed

    async def save_classroom(self, classroom: Classroom, change: Change) -> None:
        """The classroom and its token digests, in one transaction."""
        async with self._transaction() as connection:
            await connection.execute(
                "INSERT INTO classrooms (classroom_id, name, shard, require_student_tokens)"
                " VALUES ($1, $2, $3, $4)",
                classroom.classroom_id,
                classroom.name,
                classroom.shard,
                classroom.require_student_tokens,
            )
            await _write_change(connection, change)

    async def save_change(self, change: Change) -> None:
        """Old digests out, new in, in one transaction."""
        async with self._transaction() as connection:
            await _write_change(connection, change)

    async def save_classroom_settings(self, classroom: Classroom) -> None:
        """The classroom's token rule and retention."""
        await self._run(
            "execute",
            "UPDATE classrooms SET require_student_tokens = $2, retention_days = $3"
            " WHERE classroom_id = $1",
            classroom.classroom_id,
            classroom.require_student_tokens,
            classroom.retention_days,
        )

    async def load_registry(self) -> tuple[list[Classroom], dict[str, Grant]]:
        """Every classroom and grant."""
        rooms = await self._run(
            "fetch",
            "SELECT classroom_id, name, shard, require_student_tokens, retention_days"
            " FROM classrooms",
        )
        grants = await self._run(
            "fetch", "SELECT token_hash, classroom_id, role, student_id FROM tokens"
        )
        return (
            [Classroom(r[0], r[1], r[2], r[3], r[4]) for r in rooms],
            {g["token_hash"]: Grant(g["classroom_id"], g["role"], g["student_id"]) for g in grants},
        )

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Any]:
        pool = await self._connections()
        try:
            async with pool.acquire() as connection, connection.transaction():
                yield connection
        except _OUTAGE as error:
            raise LogUnavailable(f"PostgreSQL unavailable: {error}") from error

    async def fence(self, timeout_s: float = 10.0) -> None:
        """Terminate every session with our application name and wait until they are gone: a
        killed predecessor's INSERT would otherwise still commit after our replay. Call before
        the first query (it would end this process's own pooled sessions too)."""
        try:
            connection = await asyncpg.connect(self._dsn, timeout=5)
        except _OUTAGE as error:
            raise LogUnavailable(f"cannot reach PostgreSQL: {error}") from error
        try:
            deadline = asyncio.get_running_loop().time() + timeout_s
            while await connection.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = $1 AND datname = current_database()",
                self._name,
            ):
                if asyncio.get_running_loop().time() > deadline:
                    raise LogUnavailable(f"sessions of {self._name} will not end")
                await asyncio.sleep(0.05)
        except _OUTAGE as error:
            raise LogUnavailable(f"PostgreSQL unavailable: {error}") from error
        finally:
            await connection.close()

    async def close(self) -> None:
        """Close the pool."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


async def _write_change(connection: asyncpg.Connection, change: Change) -> None:
    await connection.execute(
        "DELETE FROM tokens WHERE token_hash = ANY($1::text[])", change.dropped
    )
    await connection.executemany(
        "INSERT INTO tokens (token_hash, classroom_id, role, student_id) VALUES ($1, $2, $3, $4)",
        [(d, g.classroom_id, g.role, g.student_id) for d, g in change.added.items()],
    )
