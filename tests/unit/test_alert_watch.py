"""When a dashboard tab redraws and beeps for help alerts: pure logic, a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from streamlit_dashboard.alert_watch import BEEP_MOUNTED_S, MIN_REDRAW_GAP_S, AlertWatch

pytestmark = pytest.mark.unit


def alert(id_: int, kind: str = "help_raised", name: str = "Ada") -> dict[str, Any]:
    return {"id": id_, "kind": kind, "name": name, "student_id": name.lower()}


def test_alerts_already_in_the_feed_when_the_tab_opens_never_beep() -> None:
    watch = AlertWatch.starting_after([alert(3), alert(7)])
    assert watch.cursor == 7
    assert watch.take([], now=100.0) == ([], False)
    assert watch.beep(100.0) == (False, [])


def test_a_raised_hand_is_named_at_once_redrawn_on_the_next_tick_then_beeps_once() -> None:
    watch = AlertWatch.starting_after([])
    assert watch.take([alert(1, name="Kai")], now=10.0) == (["Kai"], False)  # the toast
    assert watch.cursor == 1
    assert watch.take([], now=10.25) == ([], True)  # never in the toast's own run
    assert watch.beep(10.4) == (True, ["Kai"])  # the redraw's run: beep, and the name again
    assert watch.take([], now=10.65) == ([], False)
    assert watch.beep(10.65) == (True, [])  # still mounted, no third toast
    assert watch.beep(10.4 + BEEP_MOUNTED_S) == (False, [])


def test_other_alert_kinds_move_the_cursor_without_a_redraw() -> None:
    watch = AlertWatch.starting_after([])
    assert watch.take([alert(1, "help_claimed"), alert(2, "help_resolved")], now=1.0) == ([], False)
    assert watch.cursor == 2
    assert watch.take([], now=1.25) == ([], False)
    assert watch.beep(1.25) == (False, [])


def test_in_a_burst_every_hand_is_named_at_once_and_the_page_redraws_once_a_gap() -> None:
    watch = AlertWatch.starting_after([])
    assert watch.take([alert(1, name="A")], now=0.0) == (["A"], False)
    assert watch.take([], now=0.25) == ([], True)
    assert watch.beep(0.3) == (True, ["A"])
    assert watch.take([alert(2, name="B")], now=0.5) == (["B"], False)  # redrawn just now
    assert watch.take([alert(3, name="C")], now=0.75) == (["C"], False)
    assert watch.take([], now=1.0) == ([], False)
    assert watch.take([], now=0.25 + MIN_REDRAW_GAP_S) == ([], True)  # for B and C
    assert watch.beep(1.4) == (True, ["B", "C"]), "one beep for the two, named again"


def test_a_hand_on_every_tick_still_gets_the_page_redrawn() -> None:
    # A lecture of hundreds may bring a new hand on each tick: one that waits joins the next
    # redraw rather than holding it back, and the redraw's run names them all.
    watch = AlertWatch.starting_after([])
    assert watch.take([alert(1, name="A")], now=0.0) == (["A"], False)
    assert watch.take([alert(2, name="B")], now=0.25) == ([], True)
    assert watch.beep(0.3) == (True, ["A", "B"])


def test_a_hand_without_a_name_is_announced_by_the_student_id() -> None:
    watch = AlertWatch.starting_after([])
    nameless = {"id": 1, "kind": "help_raised", "name": None, "student_id": "jlab-7"}
    assert watch.take([nameless], now=0.0) == (["jlab-7"], False)
