"""The simulated class, pure part: seeded randomness and a clock that jumps to each due time."""

from __future__ import annotations

import itertools
import random
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest
from pydantic import TypeAdapter

from cellmon.contract import EVENT_TYPES, Event
from cellmon.simulation.habits import Pace
from cellmon.simulation.notebook import build_notebook, default_course
from cellmon.simulation.plan import join_offsets, plan_class, ramp_seconds
from cellmon.simulation.roster import Identity, make_roster, team_label
from cellmon.simulation.script import SimulatedStudent
from cellmon_cli.simulate.command import StatusLine
from cellmon_cli.simulate.sender import SendStats

pytestmark = pytest.mark.unit

START = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
CLASSROOM = "room-7"
EVENT: TypeAdapter[Any] = TypeAdapter(Event)
REALISTIC_ERRORS = {
    "NameError",
    "TypeError",
    "KeyError",
    "ValueError",
    "ZeroDivisionError",
    "IndentationError",
    "SyntaxError",
    "AttributeError",
    "IndexError",
    "FileNotFoundError",
    "ModuleNotFoundError",
    "JSONDecodeError",
}


class Batch(NamedTuple):
    """What a student sent at one moment: one request's worth."""

    at: datetime
    events: list[dict[str, Any]]


def drive(student: SimulatedStudent, minutes: float, start: datetime = START) -> list[Batch]:
    """Run a student on an injected clock that jumps to each due time, then leave."""
    until = start + timedelta(minutes=minutes)
    batches = [Batch(start, student.start(start))]
    while (due := student.next_due()) is not None and due <= until:
        batches.append(Batch(due, student.step(due)))
    batches.append(Batch(until, student.leave(until)))
    return batches


def a_class(
    seed: int = 1, students: int = 30, minutes: float = 60, speed: float = 1.0
) -> dict[SimulatedStudent, list[Batch]]:
    """A seeded class, each student driven for `minutes` of class time."""
    pace = Pace(speed=speed)
    class_ = plan_class(CLASSROOM, students, random.Random(seed), pace=pace)
    return {student: drive(student, minutes / speed) for student in class_}


def a_student(seed: int = 3, **options: Any) -> SimulatedStudent:
    who = Identity("student-01@example.edu", "Aiko Tanaka", "Team A")
    return SimulatedStudent(who, CLASSROOM, default_course(), random.Random(seed), **options)


def events_of(batches: Sequence[Batch]) -> Iterator[dict[str, Any]]:
    return (event for batch in batches for event in batch.events)


def runs_of(batches: Sequence[Batch]) -> list[dict[str, Any]]:
    return [e for e in events_of(batches) if e["type"] == "cell_executed"]


def seconds_between(times: Sequence[datetime]) -> list[float]:
    return [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]


@pytest.fixture(scope="module")
def hour() -> dict[SimulatedStudent, list[Batch]]:
    """A class of 30 for an hour, shared by the tests that only read it."""
    return a_class()


# The wire format.


def test_every_event_validates_against_the_contract(hour: dict[Any, list[Batch]]) -> None:
    seen: Counter[str] = Counter()
    for batches in hour.values():
        for event in events_of(batches):
            parsed = EVENT.validate_python(event)
            assert parsed.classroom_id == CLASSROOM
            seen[parsed.type] += 1
    assert set(seen) == set(EVENT_TYPES)


def test_events_carry_the_time_passed_in_as_utc(hour: dict[Any, list[Batch]]) -> None:
    for batches in hour.values():
        for batch in batches:
            for event in batch.events:
                stamped = datetime.fromisoformat(event["time"])
                assert stamped == batch.at
                assert stamped.utcoffset() == timedelta(0)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        a_student().start(datetime(2025, 3, 4, 9, 0))  # noqa: DTZ001 - the point of the test


def test_event_ids_are_unique_uuid4s(hour: dict[Any, list[Batch]]) -> None:
    ids = [e["event_id"] for batches in hour.values() for e in events_of(batches)]
    assert len(ids) == len(set(ids))
    assert all(event_id[14] == "4" for event_id in ids)


def test_students_have_realistic_ids_names_and_teams() -> None:
    roster = make_roster(30)
    assert roster[6] == Identity("student-07@example.edu", "Fatima Al-Sayed", "Team B")
    assert len({who.name for who in roster}) == 30
    assert make_roster(45)[40].name == "Aiko Tanaka (2)"


def test_teams_have_five_members(hour: dict[Any, list[Batch]]) -> None:
    teams = Counter(student.who.team for student in hour)
    assert teams == {f"Team {letter}": 5 for letter in "ABCDEF"}
    for student, batches in hour.items():
        assert {e["team"] for e in events_of(batches)} == {student.who.team}


def test_team_labels_continue_past_z() -> None:
    assert [team_label(i) for i in (0, 25, 26, 27, 701)] == [
        "Team A",
        "Team Z",
        "Team AA",
        "Team AB",
        "Team ZZ",
    ]


# The load profile.


def test_a_student_opens_the_notebook_first_and_answers_the_consent_question() -> None:
    opened, consent = a_student().start(START)
    assert opened["type"] == "notebook_opened"
    assert opened["notebook_path"] == "lessons/week3-pandas.ipynb"
    assert consent["type"] == "consent" and isinstance(consent["research"], bool)
    assert a_student().start(START)[1]["event_id"] == consent["event_id"], "drawn from the id"


@pytest.mark.parametrize("speed", [1.0, 10.0])
def test_cell_runs_come_every_12_to_18_seconds(speed: float) -> None:
    gaps = []
    for batches in a_class(students=10, minutes=30, speed=speed).values():
        times = [b.at for b in batches if any(e["type"] == "cell_executed" for e in b.events)]
        gaps += seconds_between(times)
    assert len(gaps) > 500
    assert 12 / speed <= min(gaps) and max(gaps) <= 18 / speed
    assert statistics.mean(gaps) == pytest.approx(15 / speed, rel=0.05)


def test_heartbeats_come_every_30_seconds(hour: dict[Any, list[Batch]]) -> None:
    for batches in hour.values():
        beats = [
            datetime.fromisoformat(e["time"])
            for e in events_of(batches)
            if e["type"] == "heartbeat"
        ]
        assert len(beats) == 120
        assert set(seconds_between(beats)) == {30.0}


def test_help_is_asked_every_90_to_150_seconds_and_withdrawn_20_to_90_seconds_later() -> None:
    class_ = a_class(students=30, minutes=8 * 60)
    mean_gaps, held = [], []
    for student, batches in class_.items():
        helps = [
            (b.at, e["type"])
            for b in batches
            for e in b.events
            if e["type"] in ("help", "help_stop")
        ]
        if not student.asks_for_help:
            assert helps == []
            continue
        starts = [at for at, kind in helps if kind == "help"]
        assert [kind for _, kind in helps] == ["help", "help_stop"] * len(starts)
        mean_gaps.append(statistics.mean(seconds_between(starts)))
        held += seconds_between([at for at, _ in helps])[::2][:-1]  # the last: cut by leaving
    assert 90 <= statistics.mean(mean_gaps) <= 150
    assert all(90 <= gap <= 150 for gap in mean_gaps)
    assert 20 <= min(held) and max(held) <= 90


def test_a_class_of_30_has_a_few_help_requests_open_at_any_time(
    hour: dict[Any, list[Batch]],
) -> None:
    askers = [student for student in hour if student.asks_for_help]
    assert 3 <= len(askers) < 30
    minutes = [START + timedelta(minutes=m) for m in range(5, 60)]
    open_now = [sum(_help_open_at(batches, t) for batches in hour.values()) for t in minutes]
    assert 2 <= statistics.mean(open_now) <= 7
    assert max(open_now) >= 3


def _help_open_at(batches: Sequence[Batch], when: datetime) -> bool:
    last = [
        e["type"]
        for b in batches
        if b.at <= when
        for e in b.events
        if e["type"] in ("help", "help_stop")
    ]
    return bool(last) and last[-1] == "help"


def test_about_one_run_in_five_fails_with_a_realistic_error(
    hour: dict[Any, list[Batch]],
) -> None:
    runs = [run for batches in hour.values() for run in runs_of(batches)]
    statuses = Counter(run["status"] for run in runs)
    assert 0.15 <= statuses["error"] / (statuses["ok"] + statuses["error"]) <= 0.28
    errors = [run for run in runs if run["status"] == "error"]
    assert {run["error_name"] for run in errors} <= REALISTIC_ERRORS
    assert len({run["error_name"] for run in errors}) >= 8
    assert all(run["error_value"] and run["code"] for run in errors)


def test_kernel_run_times_are_mostly_5_to_300_ms(hour: dict[Any, list[Batch]]) -> None:
    ran = [r for b in hour.values() for r in runs_of(b) if r["status"] != "aborted"]
    durations = [run["duration_ms"] for run in ran]
    assert min(durations) > 0
    assert sum(5 <= d <= 300 for d in durations) / len(durations) >= 0.75
    assert any(d >= 1000 for d in durations)


def test_execution_counts_climb_within_a_kernel_session(hour: dict[Any, list[Batch]]) -> None:
    for batches in hour.values():
        counts: dict[str, list[int]] = defaultdict(list)
        for run in runs_of(batches):
            if run["status"] != "aborted":
                counts[run["session_id"]].append(run["execution_count"])
        for session_counts in counts.values():
            assert session_counts == list(range(1, len(session_counts) + 1))


def test_strugglers_fail_3_times_or_more_on_every_hard_cell_before_succeeding(
    hour: dict[Any, list[Batch]],
) -> None:
    hard = {cell.cell_id for nb in default_course() for cell in nb.cells if cell.snippet.hard}
    strugglers = [student for student in hour if student.struggler]
    assert len(strugglers) == 3
    for student in strugglers:
        struggles = [
            errors
            for (_, cell_id), errors in _errors_before_success(runs_of(hour[student])).items()
            if cell_id in hard
        ]
        assert len(struggles) >= 2
        assert min(struggles) >= 3


def _errors_before_success(runs: Sequence[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Per (session, cell) that the student got to run: how many errors came first."""
    errors: Counter[tuple[str, str]] = Counter()
    succeeded: dict[tuple[str, str], int] = {}
    for run in runs:
        key = (run["session_id"], run["cell_id"])
        if key in succeeded:
            continue
        if run["status"] == "error":
            errors[key] += 1
        elif run["status"] == "ok":
            succeeded[key] = errors[key]
    return succeeded


def test_cell_runs_go_forward_cell_by_cell(hour: dict[Any, list[Batch]]) -> None:
    for batches in hour.values():
        previous: dict[str, int] = {}  # session -> the cell the student last worked on
        for batch in batches:
            runs = [e for e in batch.events if e["type"] == "cell_executed"]
            if not runs:
                continue
            # A Run All is an attempt at the cell that fails in it (see the test below).
            [worked_on] = runs if len(runs) == 1 else [r for r in runs if r["status"] == "error"]
            index, last = worked_on["cell_index"], previous.get(worked_on["session_id"])
            if last is None:
                assert index == 0
            else:
                assert index - last in (0, 1)
            previous[worked_on["session_id"]] = index


def test_aborted_cells_only_follow_an_error_in_a_run_all(hour: dict[Any, list[Batch]]) -> None:
    run_alls = 0
    for batches in hour.values():
        for batch in batches:
            runs = [e for e in batch.events if e["type"] == "cell_executed"]
            statuses = "".join(run["status"][0] for run in runs)  # o(k), e(rror), a(borted)
            if len(runs) == 1:
                assert statuses != "a"
                continue
            if runs:
                run_alls += 1
                assert [run["cell_index"] for run in runs] == list(range(12))
                assert re.fullmatch("o*ea*", statuses), statuses
    assert run_alls >= 5


def test_a_finished_notebook_is_saved_closed_and_the_next_lesson_opened() -> None:
    student = a_student()
    batches = drive(student, minutes=30)
    kinds = [
        (e["type"], e["notebook_path"])
        for e in events_of(batches)
        if e["type"].startswith("notebook_") and e["type"] != "notebook_saved"
    ]
    assert kinds[:3] == [
        ("notebook_opened", "lessons/week3-pandas.ipynb"),
        ("notebook_closed", "lessons/week3-pandas.ipynb"),
        ("notebook_opened", "lessons/week3-exercises.ipynb"),
    ]
    sessions = [e["session_id"] for e in events_of(batches) if e["type"] == "notebook_opened"]
    assert len(set(sessions)) == len(sessions)


def test_the_notebook_is_saved_every_few_runs(hour: dict[Any, list[Batch]]) -> None:
    for batches in hour.values():
        since_save = 0
        for batch in batches:
            since_save += any(e["type"] == "cell_executed" for e in batch.events)
            if any(e["type"] == "notebook_saved" for e in batch.events):
                assert since_save <= 6
                since_save = 0


def test_leaving_withdraws_help_and_closes_the_notebook() -> None:
    student = a_student(asks_for_help=True)
    student.start(START)
    while not student.help_open:
        student.step(student.next_due() or START)
    now = student.next_due() or START
    assert [e["type"] for e in student.leave(now)] == [
        "help_stop",
        "notebook_saved",
        "notebook_closed",
    ]
    assert student.next_due() is None
    assert student.step(now + timedelta(hours=1)) == []
    assert student.leave(now) == []


def test_the_same_seed_replays_the_same_class_and_another_seed_does_not() -> None:
    def replay(seed: int) -> list[list[Batch]]:
        return list(a_class(seed=seed, students=8, minutes=20).values())

    assert replay(5) == replay(5)
    assert replay(5) != replay(6)


def test_a_notebook_can_have_any_number_of_cells() -> None:
    snippets = [cell.snippet for cell in default_course()[0].cells[:3]]
    notebook = build_notebook("lessons/week3-pandas.ipynb", snippets, 20)
    assert [cell.index for cell in notebook.cells] == list(range(20))
    assert len({cell.cell_id for cell in notebook.cells}) == 20
    assert default_course()[0].cells[4].cell_id == default_course()[0].cells[4].cell_id


# Joining, pace and retries.


def test_students_join_over_the_ramp() -> None:
    assert ramp_seconds(600.0) == 60.0
    assert ramp_seconds(None) == 20.0
    assert ramp_seconds(None, speed=10.0) == 2.0
    offsets = join_offsets(30, 60.0, random.Random(1))
    assert offsets == sorted(offsets)
    assert 0 <= offsets[0] < 2 and 58 <= offsets[-1] < 60


def test_a_speed_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Pace(speed=0)


def test_the_status_line_prints_at_most_every_few_seconds() -> None:
    now, lines = [0.0], list[str]()
    status = StatusLine(every_s=5, clock=lambda: now[0], out=lines.append)
    for t in (1, 4, 5, 6, 11):
        now[0] = t
        status.update(SendStats(sent=t, accepted=t))
    assert lines == [
        "[0:05] students 0  sent 5  accepted 5  duplicates 0  rejected 0  retries 0  failures 0",
        "[0:11] students 0  sent 11  accepted 11  duplicates 0  rejected 0  retries 0  failures 0",
    ]
    assert status.latest.sent == 11
