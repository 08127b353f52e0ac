"""Versioned SQL migrations: files `migrations/NNNN_name.sql`, applied once each, in order."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

# Serializes concurrent upgrades (two `cellmon up` at once, a test and a demo).
_LOCK_KEY = 7_462_001


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("actors.adapters.stores").joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text()))
    return sorted(found)


async def upgrade(connection: Any) -> list[str]:
    """Apply the migrations this database lacks; returns the names applied (idempotent)."""
    await connection.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {
            r["version"] for r in await connection.fetch("SELECT version FROM schema_migrations")
        }
        applied = []
        for version, name, sql in migrations():
            if version in done:
                continue
            async with connection.transaction():
                await connection.execute(sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
                )
            applied.append(name)
        return applied
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def ensure_database(dsn: str) -> None:
    """Create the DSN's database if the server lacks it (connects to `postgres` to do so)."""
    import asyncpg

    name = dsn.rsplit("/", 1)[1].split("?", 1)[0]
    if not re.fullmatch(r"[A-Za-z0-9_]{1,63}", name):
        raise ValueError(f"database name {name!r} must be letters, digits and '_'")
    try:
        connection = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/postgres")
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        return
    await connection.close()
