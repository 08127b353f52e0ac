"""Research credentials in a real PostgreSQL, made with the `cellmon researcher` commands: a
token shown once, a new one replacing it, the study's key (so its pseudonyms) kept."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import asyncpg
import pytest

from actors.adapters import researchers
from tests.integration.test_sign_in_throttle import dsn

pytestmark = pytest.mark.integration
__all__ = ["dsn"]  # the fixture: a migrated database


def _cellmon(store: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cellmon_cli.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CELLMON_STORE_URL": store},
        check=False,
    )


def _authorize(store: str, token: str) -> researchers.Researcher | None:
    async def run() -> Any:
        connection = await asyncpg.connect(store)
        try:
            return await researchers.authorize(connection, token)
        finally:
            await connection.close()

    result: researchers.Researcher | None = asyncio.run(run())
    return result


def _token(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1].split()[-1]


def test_researcher_commands_make_rotate_and_grant_credentials(dsn: str) -> None:
    async def classroom() -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(
                "INSERT INTO classrooms (classroom_id, name, shard) VALUES ('ds101', 'DS', 0)"
            )
        finally:
            await connection.close()

    asyncio.run(classroom())
    refused = _cellmon(dsn, "researcher", "add", "rita", "--classroom", "nosuch")
    assert refused.returncode == 1 and "no classroom" in refused.stderr
    assert _cellmon(dsn, "researcher", "grant", "nobody", "ds101").returncode == 1

    first = _token(_cellmon(dsn, "researcher", "add", "rita"))
    assert first.startswith("cmr_")
    made = _authorize(dsn, first)
    assert made is not None and made.classrooms == frozenset()

    assert _cellmon(dsn, "researcher", "grant", "rita", "ds101").returncode == 0
    second = _token(_cellmon(dsn, "researcher", "add", "rita", "--classroom", "ds101"))
    assert _authorize(dsn, first) is None  # replaced
    again = _authorize(dsn, second)
    assert again is not None and again.classrooms == frozenset({"ds101"})
    assert again.study_key == made.study_key  # the same pseudonyms as before
    assert _authorize(dsn, "cmr_" + "x" * 43) is None
