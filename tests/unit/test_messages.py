"""Instructors' messages and the inbox each ingest answer carries back to a student."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from actors.domain import checkpoint
from actors.domain.classroom import ClassroomActor
from actors.domain.messages import CLASS, FRESH, INBOX_MESSAGES
from cellmon.limits import Limits
from cellmon.validation import Sender, parse_batch
from tests.unit.factories import at, event

pytestmark = pytest.mark.unit


def message(text: str, to: str = CLASS, minutes: float = 0) -> Any:
    return event(
        "instructor_message", student_id=to, instructor="Ms Rivera", text=text, time=at(minutes)
    )


def ids(inbox: Any) -> list[str]:
    return [m["text"] for m in inbox["messages"]]


def test_a_message_to_the_class_creates_no_student_and_shows_as_sent() -> None:
    room = ClassroomActor("c1")
    room.apply_batch([message("Pause: cell 4 together")])
    snap = room.snapshot(at(1))
    assert snap["students"] == [] and snap["summary"]["students"] == 0
    assert [(m["to"], m["from"], m["text"]) for m in snap["messages"]] == [
        ("*", "Ms Rivera", "Pause: cell 4 together")
    ]


def test_the_inbox_is_for_the_one_student_a_batch_speaks_for() -> None:
    room = ClassroomActor("c1")
    room.apply_batch([event("help", student_id="cara", time=at(0))])
    room.apply_batch([event("help_claimed", student_id="cara", instructor="Ms Rivera")])
    batch = [event("heartbeat", student_id="cara", verified=True)]
    inbox = room.inbox_for(batch, at(1))
    assert inbox is not None
    assert inbox["hand"] == {
        "up": True,
        "raised_at": at(0).isoformat(),
        "claimed_by": "Ms Rivera",
    }
    mixed = [*batch, event("heartbeat", student_id="dan")]
    assert room.inbox_for(mixed, at(1)) is None  # the simulator's many-student batches
    assert room.inbox_for([message("x")], at(1)) is None  # an instructor's own call
    stranger = room.inbox_for([event("heartbeat", student_id="new")], at(1))
    assert stranger is not None and stranger["hand"]["up"] is False


def test_private_messages_need_the_students_own_token() -> None:
    room = ClassroomActor("c1")
    room.apply_batch([message("to all"), message("to cara", to="cara"), message("to dan", "dan")])
    own_token = room.inbox_for([event("heartbeat", student_id="cara", verified=True)], at(1))
    shared_token = room.inbox_for([event("heartbeat", student_id="cara")], at(1))
    assert own_token is not None and ids(own_token) == ["to all", "to cara"]
    assert shared_token is not None and ids(shared_token) == ["to all"]


def test_the_inbox_holds_the_newest_fresh_messages() -> None:
    room = ClassroomActor("c1")
    old = FRESH.total_seconds() / 60 + 1
    room.apply_batch([message("stale", minutes=-old)])
    room.apply_batch([message(f"m{n}", minutes=n / 10) for n in range(INBOX_MESSAGES + 2)])
    inbox = room.inbox_for([event("heartbeat", student_id="cara")], at(1))
    assert inbox is not None
    assert ids(inbox) == [f"m{n}" for n in range(2, INBOX_MESSAGES + 2)]


def test_the_mailbox_is_bounded_and_comes_back_from_a_checkpoint() -> None:
    room = ClassroomActor("c1", limits=Limits(messages=3))
    room.apply_batch([message(f"m{n}", minutes=n / 10) for n in range(5)])
    restored = checkpoint.restore("c1", checkpoint.dump(room), Limits(messages=3))
    assert [m.text for m in restored.mailbox.messages] == ["m2", "m3", "m4"]
    assert restored.snapshot(at(1))["messages"] == room.snapshot(at(1))["messages"]


def test_a_student_cannot_send_an_instructor_message() -> None:
    item = {
        "type": "instructor_message",
        "event_id": "e1",
        "student_id": "cara",
        "time": datetime.now(UTC).isoformat(),
        "instructor": "Ms Rivera",
        "text": "free pizza",
    }
    parsed = parse_batch([item], sender=Sender("c1"), received_at=datetime.now(UTC))
    assert parsed.events == [] and "instructor_message" in parsed.rejected[0].reason
