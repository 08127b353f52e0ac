"""Bad input gets a clear 4xx, and never drops or changes the good data beside it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run

pytestmark = pytest.mark.e2e


def _post(deployment: Deployment, body: Any, headers: dict[str, str]) -> httpx.Response:
    kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
    return httpx.post(f"{deployment.url}/api/v1/events", headers=headers, timeout=30, **kwargs)


def test_mixed_batch_applies_exactly_the_good_items(deployment: Deployment) -> None:
    classroom = deployment.classroom("mixed")
    good = [cell_run("mia", "ok", 0), cell_run("mia", "error", 1), cell_run("leo", "ok", 0)]
    bad_type = {**cell_run("mia"), "type": "cell_exploded"}
    bad_status = {**cell_run("leo"), "status": "maybe"}
    other_class = {**cell_run("leo"), "classroom_id": "someone-elses"}
    batch = [good[0], bad_type, good[1], "not an object", bad_status, good[2], other_class]

    response = _post(deployment, batch, bearer(classroom["ingest_token"]))

    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 3
    assert [(r["index"], r["kind"]) for r in body["rejected"]] == [
        (1, "invalid"),
        (3, "invalid"),
        (4, "invalid"),
        (6, "forbidden"),
    ]
    reasons = [r["reason"] for r in body["rejected"]]
    assert "unknown event type 'cell_exploded'" in reasons[0]
    assert "must be a JSON object" in reasons[1]
    assert reasons[2].startswith("status:")
    assert "someone-elses" in reasons[3]
    snapshot = deployment.snapshot(classroom)
    assert snapshot["events_applied"] == 3
    assert {r["student_id"]: r["executions"] for r in snapshot["students"]} == {"mia": 2, "leo": 1}


def test_bad_or_missing_tokens_change_nothing(deployment: Deployment) -> None:
    classroom, other = deployment.classroom("auth"), deployment.classroom("auth-other")
    event = [cell_run("zoe")]
    assert _post(deployment, event, {}).status_code == 401
    assert _post(deployment, event, bearer("cmi_not-a-real-token")).status_code == 401
    assert _post(deployment, event, {"Authorization": "Basic abc"}).status_code == 401
    wrong_role = _post(deployment, event, bearer(classroom["instructor_token"]))
    assert wrong_role.status_code == 403
    assert "needs a student's token" in wrong_role.json()["detail"]
    foreign = [{**cell_run("zoe"), "classroom_id": other["classroom_id"]}]
    assert _post(deployment, foreign, bearer(classroom["ingest_token"])).status_code == 403
    read_other = httpx.get(
        f"{deployment.url}/api/v1/classrooms/{other['classroom_id']}",
        headers=bearer(classroom["instructor_token"]),
        timeout=30,
    )
    assert read_other.status_code == 403
    student_reads = httpx.get(
        f"{deployment.url}/api/v1/classrooms/{classroom['classroom_id']}",
        headers=bearer(classroom["ingest_token"]),
        timeout=30,
    )
    assert student_reads.status_code == 403  # a student's token cannot read the class

    for room in (classroom, other):
        assert deployment.snapshot(room)["events_applied"] == 0


def test_malformed_and_oversized_bodies_get_clear_4xx(deployment: Deployment) -> None:
    classroom = deployment.classroom("limits")
    headers = bearer(classroom["ingest_token"])
    malformed = _post(deployment, b'[{"type": "help",', headers)
    assert malformed.status_code == 400 and "malformed JSON" in malformed.json()["detail"]
    assert _post(deployment, b'"hello"', headers).status_code == 422
    too_many = [cell_run("eve") for _ in range(deployment.settings.max_batch + 1)]
    assert _post(deployment, too_many, headers).status_code == 413
    huge = b"[" + b" " * deployment.settings.max_body_bytes + b"]"
    assert _post(deployment, huge, headers).status_code == 413
    all_bad = _post(deployment, [{"type": "help"}], headers)
    assert all_bad.status_code == 422 and all_bad.json()["rejected"][0]["index"] == 0

    long_code = cell_run("eve", code="x = 1\n" * 20_000)
    answer = _post(deployment, [long_code], headers)
    assert answer.status_code == 202 and answer.json()["accepted"] == 1
    assert deployment.snapshot(classroom)["events_applied"] == 1


def test_unknown_student_and_classroom_reads_are_404(deployment: Deployment) -> None:
    classroom = deployment.classroom("reads")
    url = f"{deployment.url}/api/v1/classrooms/{classroom['classroom_id']}/students/nobody"
    response = httpx.get(url, headers=bearer(classroom["instructor_token"]), timeout=30)
    assert response.status_code == 404 and "nobody" in response.json()["detail"]
    assert httpx.get(f"{deployment.url}/docs", timeout=30).status_code == 200
    assert httpx.get(f"{deployment.url}/healthz", timeout=30).json()["status"] == "ok"
