"""A student's data on the real stack. `cellmon student forget`: afterwards a search for the
student's id and name in every PostgreSQL table, in InfluxDB (tag values and every field) and in
the classroom's live state finds nothing, their own token is refused, and the other students'
counts are unchanged. Retention, with an injected clock: old activity leaves the log, InfluxDB
and the live state; the roster stays."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from actors.adapters.influx.query import influxql_string, query
from actors.adapters.influx.target import parse_influx_url
from actors.runtime.client import blocking
from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run, help_request
from tests.e2e.jupyter_harness import stored_events
from tests.e2e.test_student_cli import cellmon
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

GONE, NAME = "zq-4711", "Zelda Quux"
OTHERS = ("bo", "cy")
ALL_TIME = "time >= -9223372036854775806 AND time <= 9223372036854775806"


def post(deployment: Deployment, token: str, events: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(
        f"{deployment.url}/api/v1/events", json=events, headers=bearer(token), timeout=30
    )


def runs(student: str, name: str) -> list[dict[str, Any]]:
    return [
        cell_run(student, "error" if n % 3 == 0 else "ok", n % 4, student_name=name)
        for n in range(12)
    ]


async def pg_mentions(dsn: str, *needles: str) -> dict[str, int]:
    """Rows of every table in the database whose text holds any needle, by table."""
    connection = await asyncpg.connect(dsn)
    try:
        tables = await connection.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        found = {}
        for (table,) in tables:
            hits = await connection.fetchval(
                f'SELECT count(*) FROM "{table}" t WHERE '
                + " OR ".join(f"strpos(t::text, ${n + 1}) > 0" for n in range(len(needles))),
                *needles,
            )
            if hits:
                found[table] = hits
        return found
    finally:
        await connection.close()


def influx(deployment: Deployment, influxql: str) -> list[dict[str, Any]]:
    target = parse_influx_url(deployment.settings.influx_url or "")
    return asyncio.run(query(target.url, target.database, influxql))


def influx_rows(
    deployment: Deployment, classroom_id: str, measurements: str = "cell_execution, help"
) -> list[dict[str, Any]]:
    """The classroom's points (of the measurements that name students, by default)."""
    room = influxql_string(classroom_id)
    return influx(
        deployment, f"SELECT * FROM {measurements} WHERE classroom = {room} AND {ALL_TIME}"
    )


def counts_of(snapshot: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {r["student_id"]: (r["executions"], r["errors"]) for r in snapshot["students"]}


def test_a_forgotten_student_is_nowhere_and_the_others_are_unchanged(
    deployment: Deployment,
) -> None:
    room = deployment.classroom("forget")
    cid, ingest = room["classroom_id"], room["ingest_token"]
    added = cellmon(deployment, "student", "add", cid, GONE, "--name", NAME, "--json")
    assert added.returncode == 0, added.stderr[-2000:]
    own_token = json.loads(added.stdout)["token"]
    assert post(deployment, own_token, [*runs(GONE, NAME), help_request(GONE)]).status_code == 202
    for other in OTHERS:
        assert post(deployment, ingest, runs(other, other.title())).status_code == 202
    actors = deployment.actors
    assert blocking(actors.message(cid, "ms.ito", f"{NAME}, look at cell 3", GONE))
    expected_points = 3 * 12 + 1  # every run and the raised hand
    wait_until(
        lambda: len(influx_rows(deployment, cid)) == expected_points, 30, "the points in InfluxDB"
    )
    wait_until(
        lambda: (
            (c := blocking(actors.shard_stats(cid))["classrooms"][cid])["checkpointed_seq"]
            == c["covered_seq"]
        ),
        30,
        "a checkpoint holding the student",
    )
    dsn = deployment.settings.store_url
    assert {"events", "checkpoints"} <= asyncio.run(pg_mentions(dsn, GONE, NAME)).keys()
    before = deployment.snapshot(room)

    done = cellmon(deployment, "student", "forget", cid, GONE, "--yes")

    assert done.returncode == 0, done.stderr[-2000:]
    assert "15 logged events and 13 InfluxDB points deleted, own token revoked" in done.stdout
    assert asyncio.run(pg_mentions(dsn, GONE, NAME)) == {}  # every table, checkpoints included
    everything = influx_rows(deployment, cid, measurements="/.*/")
    assert not [r for r in everything if GONE in str(r.values()) or NAME in str(r.values())]
    assert len(influx_rows(deployment, cid)) == expected_points - 13
    tags = influx(deployment, "SHOW TAG VALUES FROM /.*/ WITH KEY =~ /.*/")
    assert not [t for t in tags if GONE in t["value"] or NAME in t["value"]]
    after = deployment.snapshot(room)
    assert GONE not in str(after) and NAME not in str(after)
    assert counts_of(after) == {k: v for k, v in counts_of(before).items() if k != GONE}
    assert after["help_queue"] == []
    wait_until(  # ingest replicas trust a token's answer for up to 2 s here
        lambda: post(deployment, own_token, runs(GONE, NAME)[:1]).status_code == 401,
        30,
        "their own token refused",
    )
    [(events, asked_by)] = asyncio.run(_forgotten(dsn, cid))  # that it happened, not whom
    assert events == 15 and asked_by.startswith("cellmon student forget (")


async def _forgotten(dsn: str, classroom_id: str) -> list[tuple[int, str]]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT events, requested_by FROM forgotten WHERE classroom_id = $1", classroom_id
        )
        return [(row["events"], row["requested_by"]) for row in rows]
    finally:
        await connection.close()


def test_forget_asks_before_it_deletes(deployment: Deployment) -> None:
    room = deployment.classroom("forget-ask")
    assert post(deployment, room["ingest_token"], runs("dee", "Dee")).status_code == 202
    refused = cellmon(deployment, "student", "forget", room["classroom_id"], "dee")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert counts_of(deployment.snapshot(room)) == {"dee": (12, 4)}
    missing = cellmon(deployment, "student", "forget", "no-such-class", "dee", "--yes")
    assert missing.returncode == 1 and "no classroom" in missing.stderr


def test_retention_purges_old_activity_from_the_log_influxdb_and_the_live_state(
    deployment: Deployment,
) -> None:
    room = deployment.classroom("retain")
    cid = room["classroom_id"]
    assert cellmon(deployment, "student", "add", cid, "ana", "--name", "Ana").returncode == 0
    assert post(deployment, room["ingest_token"], runs("ana", "Ana")).status_code == 202
    wait_until(lambda: len(influx_rows(deployment, cid)) == 12, 30, "the points in InfluxDB")
    kept = cellmon(deployment, "classroom", "retention", cid, "30")
    assert kept.returncode == 0 and "kept 30 days" in kept.stdout, kept.stderr[-2000:]
    listed = cellmon(deployment, "classroom", "list")
    assert "kept 30 days" in next(line for line in listed.stdout.splitlines() if cid in line)
    actors = deployment.actors
    today = blocking(actors.retention_pass())
    assert [d["events"] for d in today if d["classroom_id"] == cid] == [0]

    later = datetime.now(UTC) + timedelta(days=31)  # the injected clock: a month on
    done = blocking(actors.retention_pass(now=later))

    assert [d["events"] for d in done if d["classroom_id"] == cid] == [12]
    rows = deployment.snapshot(room)["students"]
    assert [(r["student_id"], r["name"], r["executions"]) for r in rows] == [("ana", "Ana", 0)]
    # Runs and hands; the per-minute activity is re-written for the current minute, which
    # only this test's clock puts before the cutoff.
    assert influx_rows(deployment, cid) == []
    assert [e["type"] for e in stored_events(deployment, cid)] == ["roster_updated"]
    off = cellmon(deployment, "classroom", "retention", cid, "0")
    assert off.returncode == 2 and "at least 1" in off.stderr
    huge = cellmon(deployment, "classroom", "retention", cid, str(2**70))
    assert huge.returncode == 1 and "1 to 3,650 days" in huge.stderr
