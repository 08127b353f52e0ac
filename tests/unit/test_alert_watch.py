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
    assert watch.beep(100.0) is False


def test_a_raised_hand_is_named_and_redrawn_at_once_then_beeps_once_and_unmounts() -> None:
    watch = AlertWatch.starting_after([])
    assert watch.take([alert(1, name="Kai")], now=10.0) == (["Kai"], True)
    assert watch.cursor == 1
    assert watch.take([], now=10.2) == ([], False), "named and redrawn once"
    assert watch.beep(10.2) is True  # the redraw's run mounts it
    assert watch.beep(10.4) is True  # still mounted
    assert watch.beep(10.2 + BEEP_MOUNTED_S) is False


def test_other_alert_kinds_move_the_cursor_without_a_redraw() -> None:
    watch = AlertWatch.starting_after([])
    assert watch.take([alert(1, "help_claimed"), alert(2, "help_resolved")], now=1.0) == ([], False)
    assert watch.cursor == 2
    assert watch.beep(1.0) is False


def test_in_a_burst_every_hand_is_named_at_once_and_the_page_redraws_once_a_gap() -> None:
    watch = AlertWatch.starting_after([])
    assert watch.take([alert(1, name="A")], now=0.0) == (["A"], True)
    watch.beep(0.1)
    assert watch.take([alert(2, name="B")], now=0.3) == (["B"], False)  # redrawn just now
    assert watch.take([alert(3, name="C")], now=0.6) == (["C"], False)
    assert watch.take([], now=0.9) == ([], False)
    assert watch.take([], now=MIN_REDRAW_GAP_S) == ([], True)  # for B and C, named already
    assert watch.beep(MIN_REDRAW_GAP_S + 0.1) is True, "one beep for the two"
    assert watch.take([], now=MIN_REDRAW_GAP_S * 3) == ([], False)


def test_a_hand_without_a_name_is_announced_by_the_student_id() -> None:
    watch = AlertWatch.starting_after([])
    nameless = {"id": 1, "kind": "help_raised", "name": None, "student_id": "jlab-7"}
    assert watch.take([nameless], now=0.0) == (["jlab-7"], True)
