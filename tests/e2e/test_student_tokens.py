"""Every event is from the student it names: the auth matrix with students' own tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run, help_request
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


def _post(
    deployment: Deployment, token: str, items: list[Any], legacy: bool = False
) -> httpx.Response:
    if legacy:  # the existing extension: the token in the URL, camelCase events
        return httpx.post(f"{deployment.url}/c/{token}/api/v1/events", json=items, timeout=30)
    return httpx.post(
        f"{deployment.url}/api/v1/events", json=items, headers=bearer(token), timeout=30
    )


def _admin(
    deployment: Deployment, method: str, path: str, token: str, **body: Any
) -> httpx.Response:
    url = f"{deployment.url}/api/v1/classrooms/{path}"
    return httpx.request(method, url, headers=bearer(token), json=body or None, timeout=30)


def _legacy_help(event_id: str) -> dict[str, Any]:
    """A help request as the existing extension sends it (no student: the token says who)."""
    return {"eventType": "help", "eventId": event_id, "eventTime": datetime.now(UTC).isoformat()}


def _enroll(deployment: Deployment, room: dict[str, Any], student: str, **extra: Any) -> str:
    cid, read = room["classroom_id"], room["instructor_token"]
    answer = _admin(deployment, "POST", f"{cid}/students", read, student_id=student, **extra)
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    assert token.startswith("cms_") and answer.json()["student_id"] == student
    return token


def test_a_students_token_speaks_only_for_that_student(deployment: Deployment) -> None:
    room = deployment.classroom("own-tokens")
    ana = _enroll(deployment, room, "ana", name="Ana Lima", team="Team 1")
    bo = _enroll(deployment, room, "bo")

    unnamed = {k: v for k, v in cell_run("ignored").items() if k != "student_id"}
    mine = _post(deployment, ana, [unnamed, cell_run("ana", student_name="A. L. (self-typed)")])
    assert mine.status_code == 202 and mine.json()["accepted"] == 2
    theirs = _post(deployment, ana, [cell_run("ana"), help_request("bo")])  # lower Bo's hand?
    assert theirs.status_code == 202 and theirs.json()["accepted"] == 1
    [rejected] = theirs.json()["rejected"]
    assert (rejected["index"], rejected["kind"]) == (1, "forbidden") and "'bo'" in rejected[
        "reason"
    ]
    assert _post(deployment, ana, [help_request("bo")]).status_code == 403  # all forbidden

    reads = httpx.get(
        f"{deployment.url}/api/v1/classrooms/{room['classroom_id']}",
        headers=bearer(ana),
        timeout=30,
    )
    assert reads.status_code == 403  # a student's token cannot read the class

    legacy = _post(deployment, bo, [_legacy_help("e-bo-1")], legacy=True)
    assert legacy.status_code == 202 and legacy.json()["accepted"] == 1
    rows = {r["student_id"]: r for r in deployment.snapshot(room)["students"]}
    assert rows["ana"]["executions"] == 3 and rows["ana"]["name"] == "Ana Lima"  # the roster's
    assert rows["ana"]["team"] == "Team 1" and rows["ana"]["verified"] is True
    assert rows["bo"]["status"] == "help" and rows["bo"]["verified"] is True  # stamped with Bo


def test_revoked_and_rotated_tokens_stop_and_the_classroom_token_can_be_refused(
    deployment: Deployment,
) -> None:
    room = deployment.classroom("revoke")
    cid, read, wide = room["classroom_id"], room["instructor_token"], room["ingest_token"]
    old = _enroll(deployment, room, "cy")
    rotated = _admin(deployment, "POST", f"{cid}/students/cy/token", read)
    assert rotated.status_code == 200
    new = rotated.json()["token"]
    bound_s = deployment.settings.token_cache_s + 5
    wait_until(lambda: _post(deployment, old, [cell_run("cy")]).status_code == 401, bound_s)
    assert _post(deployment, new, [cell_run("cy")]).status_code == 202
    assert _admin(deployment, "POST", f"{cid}/students/nobody/token", read).status_code == 404

    assert _post(deployment, wide, [cell_run("dee")]).status_code == 202  # the weaker mode
    rule = _admin(deployment, "PUT", f"{cid}/token-rule", read, require_student_tokens=True)
    assert rule.status_code == 200
    refused = wait_until(
        lambda: (a := _post(deployment, wide, [cell_run("dee")])).status_code == 403 and a, bound_s
    )
    assert "own token" in refused.json()["detail"]
    legacy = _post(deployment, wide, [_legacy_help("e-dee")], legacy=True)
    assert legacy.status_code == 403  # on every route

    assert _admin(deployment, "DELETE", f"{cid}/students/cy", read).status_code == 204
    wait_until(lambda: _post(deployment, new, [cell_run("cy")]).status_code == 401, bound_s)
    rows = {r["student_id"]: r for r in deployment.snapshot(room)["students"]}
    assert rows["cy"]["enrolled"] is False and rows["cy"]["executions"] == 1  # history stays
    assert rows["dee"]["verified"] is False  # came under the classroom-wide token


def test_only_the_classrooms_instructor_manages_its_roster(deployment: Deployment) -> None:
    room, other = deployment.classroom("roster-a"), deployment.classroom("roster-b")
    cid = room["classroom_id"]
    ana = _enroll(deployment, room, "ana")
    for token in (ana, room["ingest_token"], other["instructor_token"]):
        answer = _admin(deployment, "POST", f"{cid}/students", token, student_id="x")
        assert answer.status_code == 403
    bad = _admin(deployment, "POST", f"{cid}/students", room["instructor_token"], student_id="")
    assert bad.status_code == 422
    nul = _admin(
        deployment, "POST", f"{cid}/students", room["instructor_token"], student_id="a\x00b"
    )
    assert nul.status_code == 201 and nul.json()["student_id"] == "ab"
