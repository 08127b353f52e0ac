"""Properties of the pure state over any sequence of valid events."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from pydantic import TypeAdapter

from actors.domain import checkpoint
from actors.domain.classroom import ClassroomActor
from cellmon.views import ClassroomSnapshot, StudentDetail
from tests.unit.factories import at, cell
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


@settings(max_examples=150, deadline=None)
@given(event_lists, event_lists)
def test_a_dump_reusing_unchanged_students_rows_equals_a_fresh_one(
    before: list[Any], after: list[Any]
) -> None:
    classroom, cache = _applied(before), checkpoint.DumpCache()
    assert checkpoint.dump(classroom, cache) == checkpoint.dump(classroom)
    classroom.apply_batch(after)
    assert checkpoint.dump(classroom, cache) == checkpoint.dump(classroom)
    assert set(cache) == set(classroom.students)


def test_a_student_gone_from_the_classroom_leaves_the_dump_cache() -> None:
    classroom = ClassroomActor("c1")
    classroom.apply_batch([cell(student_id=s) for s in ("a", "b")])
    cache: checkpoint.DumpCache = {}
    checkpoint.dump(classroom, cache)
    del classroom.students["b"]  # as forgetting or a retention purge leaves it
    assert [row["student_id"] for row in checkpoint.dump(classroom, cache)["students"]] == ["a"]
    assert set(cache) == {"a"}


@settings(max_examples=100, deadline=None)
@given(event_lists)
def test_evolve_is_dataclasses_replace(events: list[Any]) -> None:
    """The hot path's `evolve` must make what `replace` would, for states events reach."""
    from dataclasses import fields, replace

    from actors.domain.state import evolve

    for actor in _applied(events).students.values():
        state = actor.state
        for field in fields(state):
            value = getattr(state, field.name)
            changes = {field.name: value, "executions": state.executions + 1}
            assert evolve(state, **changes) == replace(state, **changes)
        assert evolve(state) == state and evolve(state) is not state
        with pytest.raises(TypeError):
            evolve(state, not_a_field=1)
