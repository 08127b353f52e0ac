"""The instructor's answer reaches the student in the ingest's answers to their own sends:
"on the way", the hand down after resolve, and messages, private only to the student's own
token."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from actors.runtime.client import blocking
from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import help_request
from tests.e2e.jupyter_harness import stored_events

pytestmark = pytest.mark.e2e


def heartbeat(student: str) -> dict[str, Any]:
    return help_request(student, "heartbeat")


def inbox(deployment: Deployment, token: str, event: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(
        f"{deployment.url}/api/v1/events", json=[event], headers=bearer(token), timeout=30
    )
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    assert body["accepted"] == 1, body
    return dict(body["inbox"])


def test_claim_messages_and_resolve_come_back_in_the_answers(deployment: Deployment) -> None:
    room = deployment.classroom("answers")
    cid, shared = room["classroom_id"], room["ingest_token"]
    enrolled = httpx.post(
        f"{deployment.url}/api/v1/classrooms/{cid}/students",
        json={"student_id": "ana"},
        headers=bearer(room["instructor_token"]),
        timeout=30,
    )
    assert enrolled.status_code == 201, enrolled.text
    own = enrolled.json()["token"]

    raised = inbox(deployment, own, help_request("ana"))
    assert raised["hand"]["up"] is True and raised["hand"]["claimed_by"] is None

    actors = deployment.actors
    blocking(actors.help_action(cid, "ana", "claim", "Ms Rivera"))
    blocking(actors.message(cid, "Ms Rivera", "Pause: cell 4 together"))
    blocking(actors.message(cid, "Ms Rivera", "Check line 3", student_id="ana"))

    mine = inbox(deployment, own, heartbeat("ana"))
    assert mine["hand"]["claimed_by"] == "Ms Rivera"
    assert [(m["to"], m["text"]) for m in mine["messages"]] == [
        ("*", "Pause: cell 4 together"),
        ("ana", "Check line 3"),
    ]
    # The classroom-wide token is the whole class's: it never carries a private message.
    classmate = inbox(deployment, shared, heartbeat("bo"))
    assert classmate["hand"]["up"] is False
    assert [m["text"] for m in classmate["messages"]] == ["Pause: cell 4 together"]

    blocking(actors.help_action(cid, "ana", "resolve", "Ms Rivera"))
    assert inbox(deployment, own, heartbeat("ana"))["hand"] == {
        "up": False,
        "raised_at": None,
        "claimed_by": None,
    }
    logged = [e for e in stored_events(deployment, cid) if e["type"] == "instructor_message"]
    assert [(e["student_id"], e["instructor"], e["text"]) for e in logged] == [
        ("*", "Ms Rivera", "Pause: cell 4 together"),
        ("ana", "Ms Rivera", "Check line 3"),
    ]


def test_a_student_cannot_post_an_instructor_message(deployment: Deployment) -> None:
    room = deployment.classroom("forged")
    forged = {**heartbeat("bo"), "type": "instructor_message", "instructor": "Ms R", "text": "x"}
    answer = httpx.post(
        f"{deployment.url}/api/v1/events",
        json=[forged],
        headers=bearer(room["ingest_token"]),
        timeout=30,
    )
    assert answer.status_code == 422 and "instructor_message" in answer.text
    assert deployment.snapshot(room)["messages"] == []
