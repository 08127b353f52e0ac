"""A researcher on the running cluster: live state and history of their study's classrooms,
under pseudonyms, audited; nothing of other classrooms, no ids, names, teams, code or notes."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

import cellmon_research as research
from actors.adapters import researchers
from actors.domain.pseudonyms import pseudonym
from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run, help_request
from tests.support import term_log
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


def _fetch(dsn: str, query: str, *args: Any) -> list[Any]:
    async def run() -> list[Any]:
        connection = await asyncpg.connect(dsn)
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    return asyncio.run(run())


def _study_key(dsn: str, name: str) -> bytes:
    (row,) = _fetch(dsn, "SELECT study_key FROM researchers WHERE name = $1", name)
    return bytes(row["study_key"])


def _post(deployment: Deployment, token: str, events: list[dict[str, Any]]) -> None:
    answer = httpx.post(
        f"{deployment.url}/api/v1/events", json=events, headers=bearer(token), timeout=30
    )
    assert answer.status_code == 202, answer.text


def test_a_researcher_reads_live_state_and_history_under_pseudonyms(
    deployment: Deployment,
) -> None:
    dsn = deployment.settings.store_url
    room, outside = deployment.classroom("study"), deployment.classroom("outside")
    tag = uuid.uuid4().hex[:8]
    # Marked so a search of everything the researcher got finds any leak.
    ids = [f"sid{tag}{n}" for n in range(3)]
    names = {s: f"Name{tag}{n}" for n, s in enumerate(ids)}
    events = []
    for n, student in enumerate(ids):
        who = {"student_name": names[student], "team": f"Team{tag}"}
        events += [
            cell_run(student, "ok", 0, code=f"secret{tag} = 1", **who),
            cell_run(student, "error", 1, code=f"secret{tag}()", **who),
        ]
        if n == 0:
            events.append({**help_request(student), "message": f"note{tag}", **who})
    _post(deployment, room["ingest_token"], events)
    _post(deployment, outside["ingest_token"], [cell_run(f"sid{tag}x", "ok", 0)])

    token = researchers.add(dsn, f"rita-{tag}", [room["classroom_id"]])
    r = research.connect(token, settings=deployment.settings)
    key = _study_key(dsn, f"rita-{tag}")
    alias = {pseudonym(key, s): s for s in ids}

    snapshot = deployment.snapshot(room)
    live = r.live(room["classroom_id"])
    assert set(live.students["student"]) == set(alias)
    for row in live.students.to_dict("records"):
        mine = next(s for s in snapshot["students"] if s["student_id"] == alias[row["student"]])
        assert (row["executions"], row["errors"], row["status"]) == (
            mine["executions"],
            mine["errors"],
            mine["status"],
        )
    assert live.summary == snapshot["summary"]
    assert list(live.help["student"]) == [pseudonym(key, ids[0])]
    assert set(live.errors.iloc[0]["students"]) == set(alias)
    assert len(live.cells) == len(snapshot["cells"]) == 2

    rooms = r.classrooms()
    assert list(rooms["classroom_id"]) == [room["classroom_id"]]
    assert int(rooms.iloc[0]["students"]) == 3
    assert set(r.live_all()) == {room["classroom_id"]}

    history = r.history(room["classroom_id"]).take_all()
    logged = _fetch(
        dsn, "SELECT seq FROM events WHERE classroom_id = $1 ORDER BY seq", room["classroom_id"]
    )
    assert sorted(row["seq"] for row in history) == [row["seq"] for row in logged]
    assert {row["student"] for row in history} == set(alias)
    assert {row["error_name"] for row in history} == {None, "NameError"}
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert r.history(room["classroom_id"], since=later).count() == 0

    seen = json.dumps(
        [
            live.students.to_dict("records"),
            live.help.to_dict("records"),
            live.errors.to_dict("records"),
            live.cells.to_dict("records"),
            history,
        ],
        default=str,
    )
    for leak in [*ids, *names.values(), f"Team{tag}", f"secret{tag}", f"note{tag}"]:
        assert leak not in seen

    with pytest.raises(research.NotAllowed):
        r.live(outside["classroom_id"])
    with pytest.raises(research.NotAllowed):
        r.history(outside["classroom_id"])
    with pytest.raises(research.NotAllowed):
        research.connect("cmr_not-a-token", settings=deployment.settings)
    with pytest.raises(research.NotAllowed):
        research.connect(room["instructor_token"], settings=deployment.settings)

    audit = _fetch(
        dsn,
        "SELECT action, classroom_id FROM research_audit WHERE researcher = $1 ORDER BY id",
        f"rita-{tag}",
    )
    assert [(a["action"], a["classroom_id"]) for a in audit] == [
        ("live", room["classroom_id"]),
        ("classrooms", None),
        ("live_all", None),
        ("history", room["classroom_id"]),
        ("history", room["classroom_id"]),
        ("refused", outside["classroom_id"]),
        ("refused", outside["classroom_id"]),
    ]

    def points() -> list[dict[str, Any]] | None:  # InfluxDB is written a moment after the log
        rows = r.metrics("cell_execution", since="1h").to_dict("records")
        return rows if len(rows) == 6 else None

    series = wait_until(points, 30, "the study's 6 cell runs in InfluxDB")
    assert {row["student"] for row in series} == set(alias)
    assert sorted(row["status"] for row in series) == ["error"] * 3 + ["ok"] * 3
    assert not [leak for leak in ids if leak in json.dumps(series, default=str)]
    hands = r.metrics("help", since=datetime.now(UTC) - timedelta(hours=1))
    assert list(hands["student"]) == [pseudonym(key, ids[0])]
    with pytest.raises(research.NotAllowed):
        r.metrics("cell_execution", classroom_id=outside["classroom_id"])
    with pytest.raises(ValueError, match="duration"):
        r.metrics("cell_execution", since="1h; DROP DATABASE cellmon")
    with pytest.raises(ValueError, match="measurement"):
        r.metrics("events")


def test_history_of_a_hundred_thousand_events_is_computed_on_the_cluster(
    deployment: Deployment,
) -> None:
    dsn = deployment.settings.store_url
    room = deployment.classroom("term")
    total, students = 100_000, 250
    asyncio.run(term_log.fill(dsn, room["classroom_id"], total, students))
    token = researchers.add(dsn, f"term-{uuid.uuid4().hex[:6]}", [room["classroom_id"]])
    r = research.connect(token, settings=deployment.settings)
    ds = r.history(room["classroom_id"])
    # Aggregated by Ray tasks; only the per-status counts come back.
    by_status = {row["status"]: row["count()"] for row in ds.groupby("status").count().take_all()}
    errors = term_log.errors_among(total)
    assert by_status == {"error": errors, "ok": total - errors}
    assert len(ds.unique("student")) == students
    half = r.history(
        room["classroom_id"], until=term_log.TERM_START + timedelta(seconds=total // 2)
    )
    assert half.count() == total // 2
    ten_s = (term_log.TERM_START + timedelta(seconds=10)).replace(tzinfo=None)
    assert r.history(room["classroom_id"], until=ten_s).count() == 10  # taken as UTC
