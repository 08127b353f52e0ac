"""The classroom actor as plain Python: idempotent batches, aggregates, bounded memory."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from actors.domain.activity import ActivitySeries
from actors.domain.classroom import ClassroomActor
from actors.domain.dedup import RecentIds
from actors.domain.state import Escalated, HelpRaised
from cellmon.views import STATUSES
from tests.unit.factories import at, cell, event

pytestmark = pytest.mark.unit

NOW = at(10)


@pytest.fixture
def room() -> ClassroomActor:
    return ClassroomActor("c1")


def by_cell(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["cell_id"]: c for c in snapshot["cells"]}


def test_replaying_a_batch_changes_nothing(room: ClassroomActor) -> None:
    batch = [
        *[cell("error", student_id="s1", time=at(9, i)) for i in range(3)],
        event("help", student_id="s2", time=at(8)),
        cell("ok", student_id="s3", time=at(9), cell_id="cell-2", cell_index=1),
    ]
    first = room.apply_batch(batch)
    assert (first.applied, first.duplicates) == (5, 0)
    assert first.effects == [Escalated("s1", 3), HelpRaised("s2", at(8))]
    before = room.snapshot(NOW)

    again = room.apply_batch(batch)

    assert (again.applied, again.duplicates, again.effects) == (0, 5, [])
    assert room.snapshot(NOW) == before
    assert before["events_applied"] == 5


def test_duplicates_within_one_batch_are_counted(room: ClassroomActor) -> None:
    ev = cell("error")
    outcome = room.apply_batch([ev, ev, cell("ok")])
    assert (outcome.applied, outcome.duplicates) == (2, 1)
    assert room.snapshot(NOW)["summary"]["errors"] == 1


def test_an_event_for_another_classroom_raises(room: ClassroomActor) -> None:
    with pytest.raises(ValueError, match="not for c1"):
        room.apply_batch([cell("ok", classroom_id="c2")])
    assert room.students == {}


def test_per_cell_stats_across_students(room: ClassroomActor) -> None:
    room.apply_batch(
        [
            cell("error", student_id="fixer", time=at(0)),
            cell("ok", student_id="fixer", time=at(1)),
            cell("ok", student_id="natural", time=at(0)),
            cell("error", student_id="stuck", time=at(0)),
            cell("error", student_id="stuck", time=at(1)),
            cell("aborted", student_id="never-ran", time=at(0)),
            cell("ok", student_id="fixer", cell_id="cell-2", cell_index=1),
        ]
    )
    snap = room.snapshot(NOW)
    assert [c["cell_id"] for c in snap["cells"]] == ["cell-1", "cell-2"]
    assert by_cell(snap)["cell-1"] == {
        "notebook_path": "lab1.ipynb",
        "cell_id": "cell-1",
        "cell_index": 0,
        "attempts": 5,
        "errors": 3,
        "students_tried": 3,
        "students_succeeded": 2,
        "students_failing": 1,
    }
    assert by_cell(snap)["cell-2"]["students_tried"] == 1


def test_a_student_who_succeeds_then_fails_is_failing_but_still_succeeded(
    room: ClassroomActor,
) -> None:
    room.apply_batch([cell("ok", time=at(0)), cell("error", time=at(1))])
    stats = by_cell(room.snapshot(NOW))["cell-1"]
    assert (stats["students_succeeded"], stats["students_failing"]) == (1, 1)


def test_the_same_cell_id_in_two_notebooks_is_two_cells(room: ClassroomActor) -> None:
    room.apply_batch([cell("ok", notebook_path="a.ipynb"), cell("ok", notebook_path="b.ipynb")])
    cells = room.snapshot(NOW)["cells"]
    assert [(c["notebook_path"], c["attempts"]) for c in cells] == [("a.ipynb", 1), ("b.ipynb", 1)]


def test_help_queue_is_ordered_by_request_time_with_wait(room: ClassroomActor) -> None:
    room.apply_batch(
        [
            event("help", student_id="third", time=at(6)),
            event("help", student_id="first", time=at(1), student_name="Ada", team="red"),
            event("help", student_id="second", time=at(4)),
            event("help", student_id="first", time=at(5)),  # a re-send keeps its place
            event("help", student_id="gone", time=at(0)),
            event("help_stop", student_id="gone", time=at(2)),
        ]
    )
    queue = room.snapshot(NOW)["help_queue"]
    assert [q["student_id"] for q in queue] == ["first", "second", "third"]
    assert [q["waiting_s"] for q in queue] == [540.0, 360.0, 240.0]
    assert queue[0]["name"] == "Ada" and queue[0]["team"] == "red"
    assert queue[0]["since"] == at(1).isoformat()


def test_help_queue_is_in_the_order_hands_reached_the_server(room: ClassroomActor) -> None:
    paris = timezone(timedelta(hours=2))
    room.apply_batch(
        [
            event("help", student_id="first", time=at(30), received_at=at(31)),
            # A client clock far behind (or in another zone) cannot move anyone ahead.
            event("help", student_id="cheater", time=at(-30 * 24 * 60), received_at=at(35)),
            event("help", student_id="zoned", time=at(36).astimezone(paris), received_at=at(36)),
        ]
    )
    queue = room.snapshot(at(40))["help_queue"]
    assert [q["student_id"] for q in queue] == ["first", "cheater", "zoned"]
    assert [q["waiting_s"] for q in queue] == [540, 300, 240]


def test_team_aggregates(room: ClassroomActor) -> None:
    room.apply_batch(
        [
            cell("ok", student_id="a", team="red", time=at(9)),
            cell("error", student_id="b", team="red", time=at(9)),
            event("help", student_id="c", team="blue", time=at(9)),
            cell("ok", student_id="loner", time=at(9)),
        ]
    )
    teams = room.snapshot(NOW)["teams"]
    assert [t["team"] for t in teams] == ["blue", "red"]
    red = teams[1]
    assert sorted(red["members"]) == ["a", "b"]
    assert (red["executions"], red["errors"]) == (2, 1)
    assert red["by_status"] == {**dict.fromkeys(STATUSES, 0), "error": 1, "active": 1}
    assert teams[0]["by_status"]["help"] == 1


def test_summary_counts_students_by_status(room: ClassroomActor) -> None:
    room.apply_batch(
        [
            event("help", student_id="h", time=at(9)),
            *[cell("error", student_id="sig", time=at(9, i)) for i in range(3)],
            cell("error", student_id="err", time=at(8)),
            cell("ok", student_id="act", time=at(9)),
            cell("ok", student_id="idl", time=at(0)),
            event("heartbeat", student_id="present", time=at(9)),
        ]
    )
    snap = room.snapshot(NOW)
    by_status = {"help": 1, "significant_error": 1, "error": 1, "active": 1, "idle": 2}
    assert snap["summary"] == {"students": 6, **by_status, "executions": 6, "errors": 4}
    statuses = [s["status"] for s in snap["students"]]
    assert statuses == ["help", "significant_error", "error", "active", "idle", "idle"]
    assert snap["significant_error_threshold"] == 3


def test_activity_per_minute(room: ClassroomActor) -> None:
    room.apply_batch(
        [
            cell("ok", time=at(0)),
            cell("error", time=at(0, 30)),
            cell("aborted", time=at(0, 40)),
            event("heartbeat", time=at(0, 50)),
            event("help", time=at(1)),
            *[event("help", time=at(1, s)) for s in (10, 20, 30)],  # legacy re-sends
            cell("ok", student_id="s2", time=at(3, 59)),
        ]
    )
    assert room.snapshot(NOW)["activity"] == [
        {"minute": at(0).isoformat(), "executions": 2, "errors": 1, "help": 0},
        {"minute": at(1).isoformat(), "executions": 0, "errors": 0, "help": 1},
        {"minute": at(3).isoformat(), "executions": 1, "errors": 0, "help": 0},
    ]
    recent = room.snapshot(NOW, activity_minutes=7)["activity"]
    assert [m["minute"] for m in recent] == [at(3).isoformat()]


def test_student_detail(room: ClassroomActor) -> None:
    room.apply_batch([cell("error", error_name="KeyError", error_value="'a'", code="d['a']")])
    detail = room.student("s1", NOW)
    assert detail is not None
    assert (detail["last_code"], detail["last_error"]) == ("d['a']", "KeyError: 'a'")
    assert detail["cells"][0]["last_status"] == "error"
    assert room.student("nobody", NOW) is None


def test_recent_ids_forgets_the_oldest_beyond_capacity() -> None:
    ids = RecentIds(capacity=2)
    assert ids.add("a") and ids.add("b")
    assert not ids.add("a")
    assert ids.add("c")
    assert len(ids) == 2
    assert not ids.add("b") and not ids.add("c")
    assert ids.add("a")  # evicted, so it counts as new again


def test_a_classroom_dedups_only_within_its_window() -> None:
    room = ClassroomActor("c1", dedup_capacity=2)
    old, mid, new = cell("error"), cell("error"), cell("error")
    room.apply_batch([old, mid, new])
    assert room.apply_batch([mid, new]).duplicates == 2
    assert room.apply_batch([old]).applied == 1  # evicted: replayed once more


def test_activity_series_drops_minutes_older_than_its_window() -> None:
    series = ActivitySeries(window=timedelta(minutes=10))
    series.add(at(0), executions=1)
    series.add(at(5), executions=1)
    series.add(at(10), executions=1)
    series.add(at(0, 30), executions=1)  # too old now: ignored, not resurrected
    minutes = [m["minute"] for m in series.since(at(-60))]
    assert minutes == [at(5).isoformat(), at(10).isoformat()]


def test_unit_tier_refuses_to_start_ray() -> None:
    ray = pytest.importorskip("ray")
    with pytest.raises(RuntimeError, match="must not start Ray"):
        ray.init()


def test_modules_under_test_do_not_import_ray() -> None:
    code = (
        "import sys, actors.domain.classroom, cellmon.validation, cellmon.legacy_format; "
        "sys.exit('ray' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, check=False)
    assert result.returncode == 0, "a pure module pulled in Ray"
