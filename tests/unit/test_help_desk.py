"""The help lifecycle: raised -> queued -> claimed by an instructor -> resolved or withdrawn;
and an instructor resolving a student's run of errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from actors.domain import checkpoint
from actors.domain.classroom import ClassroomActor
from actors.domain.state import (
    HelpClaimed,
    HelpRaised,
    HelpWithdrawn,
    Rules,
    StudentState,
    apply_event,
    status_of,
)
from cellmon.validation import Sender, parse_batch
from tests.unit.factories import at, event

pytestmark = pytest.mark.unit
RULES = Rules()


def play(*events: object) -> tuple[StudentState, list[object]]:
    state, effects = StudentState("s1"), []
    for e in events:
        state, new, _ = apply_event(state, e, RULES)
        effects.extend(new)
    return state, effects


def claim(minutes: float, by: str = "ms.ito") -> object:
    return event("help_claimed", time=at(minutes), instructor=by)


def resolve(minutes: float, by: str = "ms.ito") -> object:
    return event("help_resolved", time=at(minutes), instructor=by)


def test_claim_then_resolve_records_wait_and_handling() -> None:
    state, effects = play(event("help", time=at(0)), claim(2), resolve(5))
    assert state.help_since is None and state.help_claimed_by is None
    assert effects == [
        HelpRaised("s1", at(0)),
        HelpClaimed("s1", "ms.ito", timedelta(minutes=2)),
        HelpWithdrawn("s1", timedelta(minutes=5), at(5), "ms.ito"),
    ]
    [episode] = state.help_history
    assert (
        episode.raised_at,
        episode.claimed_at,
        episode.claimed_by,
        episode.ended_at,
        episode.resolved_by,
    ) == (at(0), at(2), "ms.ito", at(5), "ms.ito")


def test_claimed_request_stays_in_the_queue_until_resolved() -> None:
    state, _ = play(event("help", time=at(0)), claim(1))
    assert state.help_since == at(0) and state.help_claimed_by == "ms.ito"
    again, effects = play(event("help", time=at(0)), claim(1), claim(2, by="mr.sato"))
    assert again.help_claimed_by == "ms.ito" and len(effects) == 2  # first claim wins


def test_student_withdrawal_after_a_claim_is_recorded_as_withdrawn() -> None:
    state, effects = play(event("help", time=at(0)), claim(1), event("help_stop", time=at(3)))
    assert effects[-1] == HelpWithdrawn("s1", timedelta(minutes=3), at(3), None)
    assert state.help_history[0].resolved_by is None


def test_instructor_actions_without_an_open_request_change_nothing() -> None:
    state, effects = play(claim(1), resolve(2))
    assert state == StudentState("s1") and effects == []


def test_instructor_actions_are_not_the_students_activity() -> None:
    state, _ = play(event("help", time=at(0)), claim(9))
    assert state.last_activity_at == at(0) and state.last_seen_at == at(0)


def test_queue_shows_claims_and_stats_average_the_times() -> None:
    room = ClassroomActor("c1")
    room.apply_batch(
        [
            event("help", student_id="a", time=at(0)),
            event("help", student_id="b", time=at(1)),
            event("help_claimed", student_id="a", time=at(2), instructor="ms.ito"),
            event("help_resolved", student_id="a", time=at(6), instructor="ms.ito"),
            event("help_claimed", student_id="b", time=at(5), instructor="mr.sato"),
        ]
    )
    snapshot = room.snapshot(at(7))
    assert [(q["student_id"], q["claimed_by"]) for q in snapshot["help_queue"]] == [
        ("b", "mr.sato")
    ]
    assert snapshot["help_stats"] == {
        "resolved": 1,
        "ended": 1,
        "mean_wait_s": 120.0,
        "mean_handling_s": 240.0,
    }
    detail = room.student("a", at(7))
    assert detail is not None and detail["help_history"][0]["wait_s"] == 120.0
    restored = checkpoint.restore("c1", checkpoint.dump(room))
    assert restored.snapshot(at(7)) == snapshot


def test_threshold_change_is_an_event_and_applies_from_then_on() -> None:
    room = ClassroomActor("c1")
    room.apply_batch(
        [
            event("cell_executed", status="error", time=at(0)),
            event("cell_executed", status="error", time=at(1)),
            event("classroom_configured", student_id="-", significant_errors=2),
        ]
    )
    assert room.snapshot(at(2))["summary"]["significant_error"] == 1
    assert room.snapshot(at(2))["significant_error_threshold"] == 2


def test_students_cannot_send_instructor_events() -> None:
    items = [
        {
            "type": t,
            "event_id": t,
            "student_id": "s1",
            "time": "2026-01-01T00:00:00Z",
            "instructor": "me",
            "significant_errors": 1,
        }
        for t in ("help_claimed", "help_resolved", "errors_resolved", "classroom_configured")
    ]
    parsed = parse_batch(items, sender=Sender("c1"), received_at=at(0))
    assert parsed.events == [] and len(parsed.rejected) == 4
    assert all("unknown event type" in r.reason for r in parsed.rejected)


def test_resolve_error_clears_the_stuck_flag_and_the_streak_restarts_from_it() -> None:
    errors = [event("cell_executed", status="error", time=at(i)) for i in range(3)]
    state, _ = play(*errors)
    assert status_of(state, at(3), RULES) == "significant_error"
    state, effects, _ = apply_event(
        state, event("errors_resolved", time=at(4), instructor="ms.ito"), RULES
    )
    assert (state.consecutive_errors, state.errors, effects) == (0, 3, [])
    assert (state.errors_resolved_by, state.errors_resolved_at) == ("ms.ito", at(4))
    assert status_of(state, at(4), RULES) == "error", "a recent error is still a fact"
    for minute in (5, 6):
        state, _, _ = apply_event(
            state, event("cell_executed", status="error", time=at(minute)), RULES
        )
    assert state.consecutive_errors == 2 and status_of(state, at(6), RULES) == "error"


def test_a_resolved_streak_survives_a_checkpoint() -> None:
    room = ClassroomActor("c1")
    room.apply_batch([event("cell_executed", status="error", time=at(i)) for i in range(3)])
    room.apply_batch([event("errors_resolved", time=at(4), instructor="ms.ito")])
    detail = checkpoint.restore("c1", checkpoint.dump(room)).student("s1", at(5))
    assert detail is not None
    assert (detail["consecutive_errors"], detail["errors_resolved_by"]) == (0, "ms.ito")
    assert detail["errors_resolved_at"] == at(4).isoformat()
