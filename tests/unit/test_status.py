"""Per-student transitions and status rules, with an injected `now` (no real clock)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from actors.domain.state import (
    Escalated,
    HelpRaised,
    HelpWithdrawn,
    Rules,
    StudentState,
    apply_event,
    status_of,
)
from cellmon.limits import DEFAULT_LIMITS, Limits
from tests.unit.factories import T0, at, cell, event

pytestmark = pytest.mark.unit

RULES = Rules()


def play(
    *events: Any, rules: Rules = RULES, limits: Limits = DEFAULT_LIMITS
) -> tuple[StudentState, list[Any]]:
    """Apply events in order to a fresh student; return the state and all effects."""
    state, effects = StudentState("s1"), []
    for ev in events:
        state, new_effects, _ = apply_event(state, ev, rules, limits)
        effects.extend(new_effects)
    return state, effects


def status(*events: Any, now: Any, rules: Rules = RULES) -> str:
    return status_of(play(*events, rules=rules)[0], now, rules)


def errors(n: int, start: float = 0) -> list[Any]:
    """`n` failing runs, one a minute from `start` minutes."""
    return [cell("error", time=at(start + i)) for i in range(n)]


def test_a_student_with_no_events_is_idle() -> None:
    assert status(now=T0) == "idle"


def test_walk_through_every_status() -> None:
    """idle -> active -> error -> significant_error -> help -> significant_error -> error
    -> active -> idle, each step decided by the events so far and `now`."""
    steps: list[tuple[Any, Any, str]] = [
        (cell("ok", time=at(0)), at(1), "active"),
        (cell("error", time=at(1)), at(1), "error"),
        (cell("error", time=at(2)), at(2), "error"),
        (cell("error", time=at(3)), at(3), "significant_error"),
        (event("help", time=at(4)), at(4), "help"),
        (event("help_stop", time=at(5)), at(5), "significant_error"),
        (cell("ok", time=at(7)), at(7), "error"),  # the error at 3 min is still recent
        (None, at(8, 1), "active"),  # that error is now over 5 min old; the ok run is not
        (None, at(9, 1), "idle"),
    ]
    state = StudentState("s1")
    for ev, now, expected in steps:
        if ev is not None:
            state, _, _ = apply_event(state, ev, RULES)
        assert status_of(state, now, RULES) == expected, (ev, now)


def test_help_beats_every_other_status() -> None:
    struggling = [*errors(5), event("help", time=at(5))]
    assert status(*struggling, now=at(5)) == "help"
    assert status(event("help", time=at(0)), now=at(60)) == "help"  # no expiry


@pytest.mark.parametrize(("failed", "expected"), [(2, "error"), (3, "significant_error")])
def test_significant_error_at_exactly_the_default_threshold(failed: int, expected: str) -> None:
    assert status(*errors(failed), now=at(failed)) == expected


def test_significant_error_does_not_fade_with_time() -> None:
    assert status(*errors(3), now=at(120)) == "significant_error"


def test_custom_threshold() -> None:
    rules = Rules(significant_errors=5)
    assert status(*errors(4), now=at(4), rules=rules) == "error"
    assert status(*errors(5), now=at(5), rules=rules) == "significant_error"
    _, effects = play(*errors(5), rules=rules)
    assert effects == [Escalated("s1", 5)]


def test_an_ok_run_resets_the_error_streak() -> None:
    state, _ = play(*errors(2), cell("ok", time=at(2)), *errors(2, start=3))
    assert state.consecutive_errors == 2
    assert (state.executions, state.errors) == (5, 4)
    assert status_of(state, at(5), RULES) == "error"


@pytest.mark.parametrize(
    ("now", "expected"),
    [(at(5), "error"), (at(5, 1), "idle")],
    ids=["exactly-5-min", "just-over-5-min"],
)
def test_error_counts_for_five_minutes_then_falls_to_idle(now: Any, expected: str) -> None:
    assert status(cell("error", time=at(0)), now=now) == expected


def test_old_error_falls_to_active_when_there_was_recent_activity() -> None:
    events = [cell("error", time=at(0)), event("notebook_saved", time=at(4))]
    assert status(*events, now=at(5, 1)) == "active"


@pytest.mark.parametrize(
    ("now", "expected"), [(at(2), "active"), (at(2, 1), "idle")], ids=["2-min", "2-min-1-s"]
)
def test_active_for_two_minutes_after_activity(now: Any, expected: str) -> None:
    assert status(cell("ok", time=at(0)), now=now) == expected


def test_aborted_cells_are_neither_executions_nor_errors_and_keep_the_streak() -> None:
    aborted = [cell("aborted", time=at(2), cell_id=f"later-{i}") for i in range(3)]
    state, effects = play(*errors(2), *aborted)
    assert (state.executions, state.errors, state.consecutive_errors) == (2, 2, 2)
    assert effects == []
    state, effects = play(*errors(2), *aborted, cell("error", time=at(3)))
    assert state.consecutive_errors == 3
    assert effects == [Escalated("s1", 3)]


def test_only_aborted_runs_are_not_an_error() -> None:
    state, _ = play(cell("aborted", time=at(0)))
    assert (state.executions, state.errors, state.last_error_at) == (0, 0, None)
    assert status_of(state, at(1), RULES) != "error"


def test_help_stop_withdraws_help_and_reports_the_wait() -> None:
    state, effects = play(event("help", time=at(1)), event("help_stop", time=at(4)))
    assert state.help_since is None
    assert effects == [HelpRaised("s1", at(1)), HelpWithdrawn("s1", timedelta(minutes=3), at(4))]
    assert status_of(state, at(4), RULES) == "active"


def test_help_stop_without_help_is_a_no_op() -> None:
    _, effects = play(event("help_stop", time=at(1)))
    assert effects == []


def test_repeated_help_keeps_the_first_request_time() -> None:
    resends = [event("help", time=at(0, s)) for s in (0, 10, 20, 30)]
    state, effects = play(*resends)
    assert state.help_since == at(0)
    assert effects == [HelpRaised("s1", at(0))]


def test_heartbeat_updates_presence_but_not_activity() -> None:
    state, _ = play(cell("ok", time=at(0)), event("heartbeat", time=at(10)))
    assert state.last_seen_at == at(10)
    assert state.last_activity_at == at(0)
    assert status_of(state, at(10), RULES) == "idle"


def test_heartbeat_alone_leaves_a_present_but_idle_student() -> None:
    state, _ = play(event("heartbeat", time=at(0)))
    assert state.last_seen_at == at(0)
    assert status_of(state, at(0), RULES) == "idle"


def test_notebook_opened_and_closed_set_and_clear_the_current_notebook() -> None:
    opened, _ = play(event("notebook_opened", notebook_path="a.ipynb"))
    assert opened.current_notebook == "a.ipynb"
    closed, _ = play(
        event("notebook_opened", notebook_path="a.ipynb"),
        cell("ok", notebook_path="a.ipynb", cell_index=4),
        event("notebook_closed", notebook_path="a.ipynb"),
    )
    assert (closed.current_notebook, closed.current_cell_id, closed.current_cell_index) == (
        None,
        None,
        None,
    )


def test_closing_another_notebook_keeps_the_current_one() -> None:
    state, _ = play(
        event("notebook_opened", notebook_path="a.ipynb"),
        event("notebook_closed", notebook_path="b.ipynb"),
    )
    assert state.current_notebook == "a.ipynb"


def test_escalated_fires_once_per_streak() -> None:
    _, effects = play(*errors(6))
    assert effects == [Escalated("s1", 3)]
    _, effects = play(*errors(3), cell("ok", time=at(3)), *errors(3, start=4))
    assert effects == [Escalated("s1", 3), Escalated("s1", 3)]


def test_client_clock_ahead_is_clamped_to_receipt() -> None:
    ahead = dict(time=at(30), received_at=at(1))
    state, effects = play(event("help", **ahead), cell("error", **ahead))
    assert state.help_since == state.last_activity_at == state.last_error_at == at(1)
    assert effects[0] == HelpRaised("s1", at(1))


def test_client_clock_behind_is_kept() -> None:
    state, _ = play(cell("ok", time=at(0), received_at=at(3)))
    assert state.last_activity_at == at(0)
    assert status_of(state, at(2, 30), RULES) == "idle"


def test_last_code_and_error_are_bounded() -> None:
    limits = Limits(kept_code_chars=10, kept_error_chars=12)
    state, _ = play(
        cell("error", code="x" * 50, error_name="NameError", error_value="name 'x' is not defined"),
        limits=limits,
    )
    assert state.last_code == "x" * 10
    assert state.last_error == "NameError: n"


def test_last_error_text_joins_name_and_value() -> None:
    state, _ = play(cell("error", error_name="ZeroDivisionError", error_value="division by zero"))
    assert state.last_error == "ZeroDivisionError: division by zero"
    state, _ = play(cell("error"))
    assert state.last_error == "error"


def test_a_run_without_code_keeps_the_last_code() -> None:
    state, _ = play(cell("ok", code="print(1)"), cell("ok", code=""))
    assert state.last_code == "print(1)"


def test_name_and_team_follow_the_events_that_carry_them() -> None:
    state, _ = play(
        event("heartbeat", student_name="Ada", team="red"),
        event("heartbeat"),
        event("heartbeat", team="blue"),
    )
    assert (state.name, state.team) == ("Ada", "blue")
