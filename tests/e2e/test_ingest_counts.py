"""Events posted over HTTP land, exactly once, in the right classroom's snapshot."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run, help_request

pytestmark = pytest.mark.e2e


async def _post_all(url: str, batches: list[tuple[str, list[dict[str, Any]]]]) -> list[Any]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        limit = asyncio.Semaphore(16)

        async def post(token: str, batch: list[dict[str, Any]]) -> Any:
            async with limit:
                response = await client.post("/api/v1/events", json=batch, headers=bearer(token))
                return response.status_code, response.json()

        return await asyncio.gather(*(post(token, batch) for token, batch in batches))


def test_thousand_events_over_three_classrooms_give_exact_counts(deployment: Deployment) -> None:
    rng = random.Random(7)
    classrooms = [deployment.classroom(f"count{i}") for i in range(3)]
    students = [(classrooms[i % 3], f"student-{i:02d}") for i in range(50)]
    executions: Counter[tuple[str, str]] = Counter()
    errors: Counter[tuple[str, str]] = Counter()
    per_classroom: dict[str, list[dict[str, Any]]] = {c["classroom_id"]: [] for c in classrooms}
    for n in range(1000):
        classroom, student = students[rng.randrange(50)]
        status = "error" if rng.random() < 0.3 else "ok"
        key = (classroom["classroom_id"], student)
        executions[key] += 1
        errors[key] += status == "error"
        per_classroom[classroom["classroom_id"]].append(cell_run(student, status, n % 12))
    batches = []
    for classroom in classrooms:
        events = per_classroom[classroom["classroom_id"]]
        for start in range(0, len(events), 17):
            batches.append((classroom["ingest_token"], events[start : start + 17]))
    resent = batches[3]  # a client that never saw the answer sends the same batch again
    answers = asyncio.run(_post_all(deployment.url, [*batches, resent]))

    assert all(code == 202 for code, _ in answers)
    assert sum(body["accepted"] for _, body in answers) == 1000
    assert answers[-1][1] == {"accepted": 0, "duplicates": len(resent[1]), "rejected": []}
    for classroom in classrooms:
        snapshot = deployment.snapshot(classroom)
        cid = classroom["classroom_id"]
        mine = {s for c, s in executions if c == cid}
        assert snapshot["summary"]["students"] == len(mine)
        assert snapshot["events_applied"] == len(per_classroom[cid])
        rows = {row["student_id"]: row for row in snapshot["students"]}
        assert set(rows) == mine
        for student in mine:
            assert rows[student]["executions"] == executions[(cid, student)]
            assert rows[student]["errors"] == errors[(cid, student)]


def test_help_request_shows_in_queue_and_student_detail(deployment: Deployment) -> None:
    classroom = deployment.classroom("help")
    events = [cell_run("ana", "error", 1), help_request("ana")]
    response = httpx.post(
        f"{deployment.url}/api/v1/events",
        json=events,
        headers=bearer(classroom["ingest_token"]),
        timeout=30,
    )
    assert response.status_code == 202, response.text

    snapshot = deployment.snapshot(classroom)
    assert [row["student_id"] for row in snapshot["help_queue"]] == ["ana"]
    assert snapshot["summary"]["help"] == 1
    detail = httpx.get(
        f"{deployment.url}/api/v1/classrooms/{classroom['classroom_id']}/students/ana",
        headers=bearer(classroom["instructor_token"]),
        timeout=30,
    ).json()
    assert detail["last_error"] == "NameError: name 'x' is not defined"
    assert detail["cells"][0]["errors"] == 1


def test_legacy_camel_case_batch_via_token_url(deployment: Deployment) -> None:
    classroom = deployment.classroom("legacy")
    legacy = [
        {
            "eventId": "legacy-1",
            "eventType": "cell_executed",
            "eventTime": "2026-11-27T10:00:00.000Z",
            "emailAddress": "kenji@example.edu",
            "userName": "Kenji",
            "teamName": "チームA",
            "notebookPath": "lesson.ipynb",
            "cellId": "c1",
            "cellIndex": 0,
            "code": "1/0",
            "hasError": True,
            "errorMessage": "ZeroDivisionError: division by zero",
            "result": "Traceback",
        }
    ]
    response = httpx.post(
        f"{deployment.url}/c/{classroom['ingest_token']}/api/v1/events", json=legacy, timeout=30
    )
    assert response.status_code == 202, response.text

    row = deployment.snapshot(classroom)["students"][0]
    assert (row["student_id"], row["name"], row["team"]) == (
        "kenji@example.edu",
        "Kenji",
        "チームA",
    )
    assert row["errors"] == 1
