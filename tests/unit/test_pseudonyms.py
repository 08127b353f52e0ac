"""Research views: keyed pseudonyms in place of ids, and nothing that names a person."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.adapters.researchers import seq_ranges
from actors.domain.classroom import ClassroomActor
from actors.domain.pseudonyms import event_row, live_view, metric_row, pseudonym
from cellmon_research.client import _since_clause
from tests.unit.factories import at, cell, event

pytestmark = pytest.mark.unit

KEY, OTHER_KEY = b"k" * 32, b"o" * 32


def test_a_pseudonym_is_stable_within_a_study_and_differs_across_studies() -> None:
    assert pseudonym(KEY, "alice") == pseudonym(KEY, "alice")
    assert pseudonym(KEY, "alice") != pseudonym(KEY, "bob")
    assert pseudonym(KEY, "alice") != pseudonym(OTHER_KEY, "alice")
    assert "alice" not in pseudonym(KEY, "alice")


@given(st.text(max_size=300))
def test_any_stored_id_has_a_pseudonym(student_id: str) -> None:
    # Lone surrogates included: ids are stored as the student's Jupyter sent them.
    alias = pseudonym(KEY, student_id)
    assert alias.startswith("p-") and len(alias) == 22


def _room(students: dict[str, tuple[str, str]]) -> ClassroomActor:
    room = ClassroomActor("c1")
    batch: list[Any] = []
    for n, (student, (name, team)) in enumerate(students.items()):
        who = {"student_id": student, "student_name": name, "team": team}
        batch += [
            cell("error", time=at(1, n), code=f"leak_code_{n}()", error_name="NameError", **who),
            event("help", time=at(2, n), message=f"leak_note_{n}", **who),
            event("help_claimed", time=at(3, n), instructor="leak@school.example", **who),
            event(
                "instructor_message",
                time=at(4, n),
                instructor="leak@school.example",
                text=f"leak_text_{n}",
                student_id=student,
            ),
        ]
    room.apply_batch(batch)
    return room


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"leak_id_[a-z0-9]{4}", fullmatch=True),
        st.tuples(
            st.from_regex(r"leak_name_[a-z]{3}", fullmatch=True),
            st.from_regex(r"leak_team_[a-z]{3}", fullmatch=True),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_a_live_view_names_nobody(students: dict[str, tuple[str, str]]) -> None:
    view = live_view(_room(students).snapshot(at(10)), KEY)
    assert "leak" not in json.dumps(view)  # ids, names, teams, code, notes, instructors, texts
    assert {row["student"] for row in view["students"]} == {pseudonym(KEY, s) for s in students}
    assert all(entry["claimed"] for entry in view["help"])
    (errors,) = view["errors"]
    assert set(errors["students"]) == {pseudonym(KEY, s) for s in students}


def test_an_event_row_keeps_the_measures_and_drops_code_and_names() -> None:
    logged = {
        "seq": 7,
        "classroom_id": "c1",
        "student_id": "alice",
        "type": "cell_executed",
        "time": at(1),
        "received_at": at(1),
        "payload": {
            "student_name": "Alice",
            "code": "password = 1",
            "error_value": "alice's file",
            "cell_index": 3,
            "status": "error",
            "error_name": "NameError",
            "duration_ms": 12.5,
        },
    }
    row = event_row(KEY, logged)
    assert row["student"] == pseudonym(KEY, "alice")
    assert (row["cell_index"], row["status"], row["duration_ms"]) == (3, "error", 12.5)
    assert "lice" not in json.dumps(row, default=str) and "password" not in str(row)


@given(st.integers(1, 10**6), st.integers(0, 10**5), st.integers(1, 10**4))
def test_seq_ranges_cover_the_bounds_once_in_order(low: int, span: int, size: int) -> None:
    ranges = seq_ranges(low, low + span, size)
    assert ranges[0][0] == low and ranges[-1][1] == low + span
    assert all(b - a + 1 <= size for a, b in ranges)
    assert all(nxt[0] == prev[1] + 1 for prev, nxt in itertools.pairwise(ranges))


def test_a_metric_point_keeps_its_tags_and_fields_with_the_student_pseudonymised() -> None:
    key = b"k" * 32
    point = {"time": "t", "classroom": "c1", "status": "ok", "student": "ana", "count": 1}
    assert metric_row(key, point) == {**point, "student": pseudonym(key, "ana")}
    assert metric_row(key, {"time": "t", "executions": 3}) == {
        "time": "t",
        "executions": 3,
        "student": None,
    }


def test_a_metrics_window_is_a_bounded_duration_or_a_time_in_utc() -> None:
    from datetime import datetime, timedelta, timezone

    assert _since_clause("90m") == "time > now() - 90m"
    paris = datetime(2026, 11, 30, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert _since_clause(paris) == "time >= '2026-11-30T09:00:00.000000Z'"
    naive = paris.replace(tzinfo=None)  # taken as UTC, as the log's times are
    assert _since_clause(naive) == "time >= '2026-11-30T10:00:00.000000Z'"
    for bad in ("", "2", "0h", "2h OR 1=1", "12345678d", "2x"):
        with pytest.raises(ValueError, match="duration"):
            _since_clause(bad)
