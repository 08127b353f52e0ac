"""Properties of the pure state over any sequence of valid events."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from pydantic import TypeAdapter

from actors.domain import checkpoint
from actors.domain.classroom import ClassroomActor
from cellmon.views import ClassroomSnapshot, StudentDetail
from tests.unit.factories import at
from tests.unit.strategies import event_lists

pytestmark = pytest.mark.unit
NOW = at(120)


def _applied(events: list[Any]) -> ClassroomActor:
    classroom = ClassroomActor("c1")
    classroom.apply_batch(events)
    return classroom


@settings(max_examples=150, deadline=None)
@given(event_lists)
def test_applying_any_events_twice_gives_the_state_of_once(events: list[Any]) -> None:
    once = _applied(events)
    twice = _applied(events)
    outcome = twice.apply_batch(events)
    assert outcome.applied == 0 and outcome.effects == []
    assert twice.snapshot(NOW) == once.snapshot(NOW)
    assert once.apply_failures == 0


SNAPSHOT = TypeAdapter(ClassroomSnapshot)
DETAIL = TypeAdapter(StudentDetail)


@settings(max_examples=100, deadline=None)
@given(event_lists)
def test_what_leaves_the_actors_has_the_shapes_of_the_view_models(events: list[Any]) -> None:
    classroom = _applied(events)
    SNAPSHOT.validate_python(classroom.snapshot(NOW), strict=True)
    for sid in classroom.students:
        DETAIL.validate_python(classroom.student(sid, NOW), strict=True)


@settings(max_examples=150, deadline=None)
@given(event_lists, event_lists)
def test_a_checkpoint_then_the_rest_equals_one_uninterrupted_run(
    before: list[Any], after: list[Any]
) -> None:
    straight = _applied(before + after)
    restored = checkpoint.restore("c1", checkpoint.dump(_applied(before)))
    restored.apply_batch(after)
    assert restored.snapshot(NOW) == straight.snapshot(NOW)
    for sid, student in straight.students.items():
        assert restored.students[sid].state == student.state
