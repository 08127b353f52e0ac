"""Research consent in the classroom's state: the policy and each student's latest answer are
applied, survive a checkpoint, reach the student's inbox, and decide who a research view holds
(asked: only a yes; not asked: anyone but a no), while the instructor's view holds everyone."""

from __future__ import annotations

import pytest

from actors.domain import checkpoint
from actors.domain.classroom import ClassroomActor
from actors.domain.pseudonyms import in_research, live_view, pseudonym
from tests.unit.factories import at, cell, event

pytestmark = pytest.mark.unit

KEY = b"s" * 32


def policy(required: bool, minute: float) -> object:
    return event("consent_policy", student_id="-", required=required, time=at(minute))


def answer(student: str, research: bool, minute: float) -> object:
    return event("consent", student_id=student, research=research, time=at(minute))


def a_class() -> ClassroomActor:
    """yes agreed, no declined, late agreed then withdrew, mute never answered; all failed
    the same cell, and mute and no raised a hand."""
    room = ClassroomActor("c1")
    history = [
        answer("yes", True, 1),
        answer("no", False, 1),
        answer("late", True, 1),
        answer("late", False, 2),
    ]
    for student in ("yes", "no", "late", "mute"):
        history.append(cell("error", student_id=student, error_name="KeyError", time=at(3)))
    history += [event("help", student_id="mute", time=at(4)), event("help", student_id="no")]
    room.apply_batch(history)
    return room


@pytest.mark.parametrize(
    ("required", "answer_", "readable"),
    [
        (True, True, True),
        (True, False, False),
        (True, None, False),
        (False, True, True),
        (False, False, False),
        (False, None, True),
    ],
)
def test_who_research_may_read(required: bool, answer_: bool | None, readable: bool) -> None:
    assert in_research(required, answer_) is readable


def test_the_instructor_sees_everyone_and_each_answer() -> None:
    room = a_class()
    snapshot = room.snapshot(at(5))
    answers = {r["student_id"]: r["research_consent"] for r in snapshot["students"]}
    assert answers == {"yes": True, "no": False, "late": False, "mute": None}
    assert snapshot["consent_required"] is False
    room.apply_batch([policy(True, 6)])
    assert room.snapshot(at(6))["consent_required"] is True
    assert room.snapshot(at(6))["summary"]["students"] == 4


def test_a_research_view_holds_only_whom_research_may_read() -> None:
    room = a_class()
    not_asked = live_view(room.snapshot(at(5)), KEY)
    assert {r["student"] for r in not_asked["students"]} == {
        pseudonym(KEY, s) for s in ("yes", "mute")
    }
    assert [h["student"] for h in not_asked["help"]] == [pseudonym(KEY, "mute")]
    assert not_asked["summary"]["students"] == 2 and not_asked["summary"]["errors"] == 2

    room.apply_batch([policy(True, 6)])
    asked = live_view(room.snapshot(at(6)), KEY)
    assert [r["student"] for r in asked["students"]] == [pseudonym(KEY, "yes")]
    assert asked["help"] == []
    [group] = asked["errors"]
    assert group["students"] == [pseudonym(KEY, "yes")]

    room.apply_batch([answer("yes", False, 7)])  # a withdrawal: out of every read at once
    withdrawn = live_view(room.snapshot(at(7)), KEY)
    assert withdrawn["students"] == [] and withdrawn["errors"] == []
    assert withdrawn["summary"]["students"] == 0


def test_consent_survives_a_checkpoint_and_reaches_the_students_inbox() -> None:
    room = a_class()
    room.apply_batch([policy(True, 6)])
    restored = checkpoint.restore("c1", checkpoint.dump(room))
    assert restored.snapshot(at(7)) == room.snapshot(at(7))
    inbox = restored.inbox_for([cell(student_id="late", time=at(8))], at(8))
    assert inbox is not None and inbox["consent"] == {"required": True, "research": False}
    stranger = restored.inbox_for([cell(student_id="new", time=at(8))], at(8))
    assert stranger is not None and stranger["consent"] == {"required": True, "research": None}


@pytest.mark.parametrize("research", ["yes", "true", 1, 0, "on", None])
def test_a_consent_answer_is_an_explicit_true_or_false(research: object) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        event("consent", student_id="s1", research=research)
