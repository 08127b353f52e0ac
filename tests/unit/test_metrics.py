"""Line protocol for class metrics: exact lines, escaping, tag cardinality, timestamps."""

from __future__ import annotations

import random
import re
from datetime import timedelta, timezone

import pytest

from actors.adapters.influx.lines import activity_point, cell_point, epoch_ms, help_point
from tests.unit.factories import at, cell, event

pytestmark = pytest.mark.unit

T0_MS = 1_709_542_800_000  # factories.T0, 2024-03-04 09:00 UTC
NS = 1_000_000  # lines carry nanoseconds: the millisecond plus a uniquifier


def tag_set(line: str) -> dict[str, str]:
    """The tags of a line, still escaped; the tag section ends at the first unescaped space."""
    head = re.split(r"(?<!\\) ", line, maxsplit=1)[0]
    pairs = re.split(r"(?<!\\),", head)[1:]
    return dict(re.split(r"(?<!\\)=", pair, maxsplit=1) for pair in pairs)


def test_ok_cell_is_one_exact_line() -> None:
    ev = event("cell_executed", status="ok", duration_ms=12.5, cell_index=3, time=at(1, 2.345))
    assert cell_point(ev) == (
        'cell_execution,classroom=c1,status=ok cell_index=3i,count=1i,duration_ms=12.5,student="s1"'
        f" {(T0_MS + 62_345) * NS}"
    )


def test_error_cell_carries_the_error_name_as_a_tag() -> None:
    line = cell_point(
        event("cell_executed", status="error", error_name="NameError", duration_ms=4.0)
    )
    assert line is not None
    assert tag_set(line) == {"classroom": "c1", "status": "error", "error_name": "NameError"}
    assert "duration_ms=4 " in line or "duration_ms=4," in line


def test_aborted_cell_has_no_duration_and_no_error_name() -> None:
    line = cell_point(event("cell_executed", status="aborted", cell_index=None))
    assert (
        line == f'cell_execution,classroom=c1,status=aborted count=1i,student="s1" {(T0_MS) * NS}'
    )


def test_duration_is_always_a_float_field() -> None:
    """An int duration written as `3i` would conflict with earlier float points (HTTP 400)."""
    line = cell_point(event("cell_executed", status="ok", duration_ms=3))
    assert line is not None
    assert re.search(r"duration_ms=3[ ,]", line)


def test_odd_characters_in_tag_values_are_escaped() -> None:
    line = cell_point(
        event(
            "cell_executed",
            classroom_id="Room 1, group=A",
            status="error",
            error_name="Bad Thing,x=1",
        )
    )
    assert line is not None
    assert line.startswith(
        r"cell_execution,classroom=Room\ 1\,\ group\=A,error_name=Bad\ Thing\,x\=1,status=error "
    )
    assert tag_set(line)["classroom"] == r"Room\ 1\,\ group\=A"


def test_student_id_is_a_string_field_never_a_tag() -> None:
    line = cell_point(event("cell_executed", status="ok", student_id='stu "7" \\ b'))
    assert line is not None
    tags = tag_set(line)
    assert set(tags) == {"classroom", "status"}
    assert "stu" not in ",".join(tags.values())
    assert r'student="stu \"7\" \\ b"' in line


def test_event_id_and_notebook_are_not_in_the_line() -> None:
    ev = event("cell_executed", status="ok", notebook_path="secret/lab 1.ipynb")
    line = cell_point(ev)
    assert line is not None
    assert ev.event_id not in line
    assert "secret" not in line


def test_timestamp_is_whole_ms_of_occurred_at() -> None:
    # sub-millisecond part is truncated, not rounded
    line = cell_point(event("cell_executed", status="ok", time=at(seconds=1.2349)))
    assert line is not None and line.endswith(f" {(T0_MS + 1_234) * NS}")
    # a client clock ahead of the server: the receipt time is used
    ahead = event("cell_executed", status="ok", time=at(5), received_at=at(1))
    assert (cell_point(ahead) or "").endswith(f" {(T0_MS + 60_000) * NS}")
    # another time zone, same instant
    local = at(2).astimezone(timezone(timedelta(hours=2)))
    assert (cell_point(event("cell_executed", status="ok", time=local)) or "").endswith(
        f" {(T0_MS + 120_000) * NS}"
    )


def test_epoch_ms_is_exact_for_every_millisecond() -> None:
    """Dividing float nanoseconds (as datetime input to `Point` does) is 1 ms off for 1 in 8."""
    for ms in range(5_000):
        instant = at(seconds=ms / 1000)
        assert epoch_ms(instant) == T0_MS + ms
        assert epoch_ms(instant + timedelta(microseconds=999)) == T0_MS + ms


@pytest.mark.parametrize("type_", ["notebook_opened", "notebook_saved", "help", "heartbeat"])
def test_other_events_have_no_cell_line(type_: str) -> None:
    assert cell_point(event(type_)) is None


def test_help_lines() -> None:
    raised = help_point("c1", "s1", "raised", at(3), waited_s=99)
    assert raised == f'help,classroom=c1,kind=raised student="s1" {(T0_MS + 180_000) * NS}'
    withdrawn = help_point("room 2", "s1", "withdrawn", at(4, 0.5), waited_s=30)
    assert withdrawn == (
        rf'help,classroom=room\ 2,kind=withdrawn student="s1",waited_s=30 {(T0_MS + 240_500) * NS}'
    )
    assert "waited_s=12.25" in help_point("c1", "s1", "withdrawn", at(4), waited_s=12.25)


def test_help_kind_is_checked() -> None:
    with pytest.raises(ValueError, match="raised"):
        help_point("c1", "s1", "escalated", at())  # type: ignore[arg-type]


def test_activity_line_is_floored_to_its_minute() -> None:
    line = activity_point("c1", at(2, 59.999), executions=30, errors=4, help=1, active_students=12)
    assert line == (
        "classroom_activity,classroom=c1 "
        f"active_students=12i,errors=4i,executions=30i,help=1i {(T0_MS + 120_000) * NS}"
    )
    assert activity_point("c1", at(2), 0, 0, 0, 0).endswith(f" {(T0_MS + 120_000) * NS}")


def test_two_runs_in_the_same_millisecond_stay_two_points() -> None:
    first, second = cell("ok", time=at(1)), cell("ok", time=at(1))
    lines = {cell_point(first, uniquifier=41), cell_point(second, uniquifier=42)}
    stamps = {line.rsplit(" ", 1)[1] for line in lines if line}
    assert stamps == {str((T0_MS + 60_000) * NS + 41), str((T0_MS + 60_000) * NS + 42)}


@pytest.mark.parametrize("seed", range(5))
def test_lines_are_escaped_exactly_as_influxdb_clients_point(seed: int) -> None:
    """`_line` replaces `Point` for speed: it must write the same bytes, awkward values included."""
    from influxdb_client.client.write.point import Point

    from actors.adapters.influx.lines import _line

    rng = random.Random(seed)
    alphabet = 'ab ,=\\"\n\t\r\u00e9'

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 8)))

    for _ in range(200):
        tags = {f"t{n}": rng.choice([None, "", text()]) for n in range(3)}
        fields = {
            "s": rng.choice([None, text()]),
            "i": rng.choice([None, rng.randrange(-5, 5)]),
            "f": rng.choice([None, rng.uniform(-5, 5), 2.0, float("inf")]),
            "b": rng.choice([None, True, False]),
            "z": 1,
        }
        measurement = "m" + text()
        expected = Point.from_dict(
            {"measurement": measurement, "tags": tags, "fields": fields, "time": 7}
        ).to_line_protocol()
        assert _line(measurement, tags, fields, 7) == expected


@pytest.mark.parametrize("seed", range(3))
def test_cell_lines_are_what_the_general_line_writes(seed: int) -> None:
    """`cell_point` writes its keys in sorted order by hand, for speed: it must match `_line`
    (which the test above holds to `Point`) for any ids, error names, durations and indices."""
    from actors.adapters.influx.lines import CELL_EXECUTION, _line, _ns
    from cellmon.contract import occurred_at

    rng = random.Random(seed)
    alphabet = 'ab ,=\\"\n\t\u00e9'

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 8)))

    for n in range(200):
        ev = event(
            "cell_executed",
            classroom_id="c" + text(),
            student_id="s" + text(),
            status=rng.choice(["ok", "error", "aborted"]),
            error_name=rng.choice([None, "", text()]),
            duration_ms=rng.choice([None, 0, 3, rng.uniform(0, 1e6), 2.0]),
            cell_index=rng.choice([None, 0, rng.randrange(10_000)]),
        )
        general = _line(
            CELL_EXECUTION,
            {"classroom": ev.classroom_id, "status": ev.status, "error_name": ev.error_name},
            {
                "student": ev.student_id,
                "count": 1,
                "duration_ms": None if ev.duration_ms is None else float(ev.duration_ms),
                "cell_index": ev.cell_index,
            },
            _ns(epoch_ms(occurred_at(ev)), n),
        )
        assert cell_point(ev, uniquifier=n) == general
