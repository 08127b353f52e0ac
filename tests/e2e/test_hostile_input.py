"""A hostile corpus on the real stack, sent concurrently with a class's valid events so that
they share group commits: no 5xx (a flood that fills its classroom's queue is that classroom's
429, and is sent again as a student's Jupyter would), every valid event applied exactly once,
and every shard still checkpointing afterwards."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from actors.runtime.client import blocking
from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run, help_request
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

TEXT_FIELDS = ("notebook_path", "student_name", "team", "code", "error_name", "error_value")
GOOD_STUDENTS = [f"good-{n}" for n in range(12)]
RUNS_EACH = 30


def hostile_items() -> list[Any]:
    """Each kind of bad item once, for the hostile student `h`."""
    now = datetime.now(UTC)
    items: list[Any] = []
    for field in TEXT_FIELDS:  # cleaned and taken: 12 events
        items += [cell_run("h", "error", **{field: "a\x00b"})]
        items += [cell_run("h", "error", **{field: "a\ud800b\udfff"})]
    items += [cell_run("h", time=t) for t in ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z")]
    items += [cell_run("h", time=t) for t in ("9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59Z")]
    items += [cell_run("h", time=(now - timedelta(days=400)).isoformat())]
    items += [cell_run("h", cell_index=v) for v in (2**63, 2**70, "1" + "0" * 40)]
    items += [cell_run("h", execution_count=2**63), cell_run("h", duration_ms="inf")]
    items += [cell_run("h", event_id="x" * 70_000), cell_run("h", notebook_path="p" * 70_000)]
    items += [cell_run("x" * 70_000), {"eventType": "instructor_assignment", "eventId": "a"}]
    items += [{"eventType": "error_occurred", "userId": "h"}, {"type": "help", "student_id": 7}]
    nested: Any = "deep"
    for _ in range(900):  # deep, but inside orjson's limit: this item alone is refused
        nested = [nested]
    items += [cell_run("h", code=nested), None, 12, "text", [1, 2]]
    return items


CLEANED = 2 * len(TEXT_FIELDS)


def body(items: list[Any]) -> bytes:
    """JSON as Python writes it: lone surrogates as \\ud800 escapes (orjson would refuse)."""
    return json.dumps(items, ensure_ascii=True).encode()


async def post(client: httpx.AsyncClient, token: str, content: bytes) -> httpx.Response:
    return await client.post("api/v1/events", content=content, headers=bearer(token))


async def storm(deployment: Deployment, room: dict[str, Any], calm: dict[str, Any]) -> Counter[str]:
    """Hostile requests, a 20,000-student flood and valid runs, all at once; counts by kind."""
    counts: Counter[str] = Counter()
    token, calm_token = room["ingest_token"], calm["ingest_token"]

    async def send(client: httpx.AsyncClient, tok: str, content: bytes, kind: str) -> int:
        answer = await post(client, tok, content)
        assert answer.status_code < 500, f"{kind}: {answer.status_code} {answer.text[:300]}"
        counts[f"{kind}:{answer.status_code}"] += 1
        if answer.status_code == 202:
            counts[f"{kind}:accepted"] += answer.json()["accepted"]
        if answer.status_code == 429:  # the classroom's own queue is full: come back, as told
            assert answer.headers["Retry-After"] == "1", answer.headers
        return answer.status_code

    async def persist(client: httpx.AsyncClient, tok: str, content: bytes, kind: str) -> None:
        """Send until answered other than 429, as a student's Jupyter does (and a stubborn
        attacker would)."""
        for _ in range(120):
            if await send(client, tok, content, kind) != 429:
                return
            await asyncio.sleep(1.0)  # its Retry-After
        raise AssertionError(f"{kind}: still 429 after two minutes")

    async def good_student(client: httpx.AsyncClient, student: str, tok: str, kind: str) -> None:
        for n in range(RUNS_EACH):
            status = "error" if n % 3 == 0 else "ok"
            await persist(client, tok, body([cell_run(student, status, n % 5)]), kind)

    flood = [
        [{**help_request(f"flood-{b}-{i}"), "type": "heartbeat"} for i in range(500)]
        for b in range(40)
    ]
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=f"{deployment.url}/", timeout=60, limits=limits) as c:
        jobs = [good_student(c, s, token, "good") for s in GOOD_STUDENTS[:6]]
        jobs += [good_student(c, s, calm_token, "calm") for s in GOOD_STUDENTS[6:]]
        jobs += [persist(c, token, body([item]), "hostile") for item in hostile_items()]
        jobs += [persist(c, token, body(hostile_items()), "hostile-batch")]
        jobs += [send(c, token, b"[" * 10_000 + b"]" * 10_000, "deep")]
        jobs += [persist(c, token, body(batch), "flood") for batch in flood]
        await asyncio.gather(*jobs)
    return counts


def checkpoint_positions(deployment: Deployment, classroom_id: str) -> dict[str, int]:
    found: dict[str, int] = blocking(deployment.actors.shard_stats(classroom_id))["classrooms"][
        classroom_id
    ]
    return found


def test_a_hostile_class_costs_the_others_nothing(deployment: Deployment) -> None:
    room, calm = deployment.classroom("hostile"), deployment.classroom("hostile-calm")
    with httpx.Client(base_url=f"{deployment.url}/", timeout=60) as client:
        for student in GOOD_STUDENTS:  # in class before the flood fills it
            target = room if student in GOOD_STUDENTS[:6] else calm
            first = [cell_run(student, "ok", 0, event_id=f"{student}-{uuid.uuid4()}")]
            assert client.post("api/v1/events", json=first, headers=bearer(target["ingest_token"]))
        client.post("api/v1/events", json=[cell_run("h")], headers=bearer(room["ingest_token"]))

    counts = asyncio.run(storm(deployment, room, calm))

    assert counts["deep:400"] == 1
    assert counts["hostile:accepted"] == CLEANED and counts["hostile-batch:accepted"] == CLEANED
    assert counts["good:202"] == counts["calm:202"] == 6 * RUNS_EACH
    assert counts["good:accepted"] == counts["calm:accepted"] == 6 * RUNS_EACH
    snapshot, calm_snapshot = deployment.snapshot(room), deployment.snapshot(calm)
    rows = {r["student_id"]: r for r in snapshot["students"] + calm_snapshot["students"]}
    for student in GOOD_STUDENTS:  # every valid run applied exactly once
        assert rows[student]["executions"] == RUNS_EACH + 1, student
    assert rows["h"]["executions"] == 1 + 2 * CLEANED
    limit = deployment.settings.students_per_classroom
    assert snapshot["summary"]["students"] == limit  # the flood filled the class, no further
    assert counts["flood:accepted"] == limit - 7
    taken = sum(v for k, v in counts.items() if k.endswith(":accepted") and "calm" not in k)
    assert snapshot["events_applied"] == 7 + taken

    for classroom in (room, calm):  # the shards still checkpoint what comes next
        cid = classroom["classroom_id"]
        before = checkpoint_positions(deployment, cid)["covered_seq"]
        httpx.post(
            f"{deployment.url}/api/v1/events",
            json=[cell_run("good-0")],
            headers=bearer(classroom["ingest_token"]),
            timeout=30,
        ).raise_for_status()
        wait_until(
            lambda cid=cid, before=before: (
                (seqs := checkpoint_positions(deployment, cid))["checkpointed_seq"]
                == seqs["covered_seq"]
                > before
            ),
            30,
            f"a checkpoint of {cid}",
        )
