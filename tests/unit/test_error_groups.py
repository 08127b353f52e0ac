"""Errors grouped per cell: who is failing each cell now, by error, for the whole room."""

from __future__ import annotations

from typing import Any

import pytest

from actors.domain import checkpoint
from actors.domain.classroom import ClassroomActor
from actors.domain.error_text import MESSAGE_CHARS, normalised_error
from tests.unit.factories import at, cell

pytestmark = pytest.mark.unit

NAME_ERROR = {"error_name": "NameError", "error_value": "name 'df' is not defined"}
TYPE_ERROR = {"error_name": "TypeError", "error_value": "unsupported operand type(s)"}


def run(room: ClassroomActor, student: str, cell_id: str, status: str, **fields: Any) -> None:
    room.apply_batch(
        [cell(status, student_id=student, cell_id=cell_id, time=at(len(room.students)), **fields)]
    )


def summary(room: ClassroomActor) -> list[tuple[str, int, list[tuple[str | None, list[str]]]]]:
    return [
        (c["cell_id"], c["failing"], [(g["error_name"], g["students"]) for g in c["groups"]])
        for c in room.snapshot(at(10))["error_groups"]
    ]


def test_two_errors_across_five_students_make_two_groups_with_their_counts() -> None:
    room = ClassroomActor("c1")
    for s in ("s1", "s2", "s3"):
        run(room, s, "load", "error", code="df.head()", **NAME_ERROR)
    for s in ("s4", "s5"):
        run(room, s, "load", "error", code="1 + 'a'", **TYPE_ERROR)
    [load] = room.snapshot(at(10))["error_groups"]
    assert load["failing"] == 5
    [names, types] = load["groups"]
    assert (names["error_name"], names["message"], names["students"], names["code"]) == (
        "NameError",
        "name 'df' is not defined",
        ["s1", "s2", "s3"],
        "df.head()",
    )
    assert (types["error_name"], types["students"], types["code"]) == (
        "TypeError",
        ["s4", "s5"],
        "1 + 'a'",
    )


def test_a_fixed_cell_leaves_its_group_and_cells_sort_by_students_stuck_now() -> None:
    room = ClassroomActor("c1")
    run(room, "s1", "early", "error", **NAME_ERROR)
    for s in ("s2", "s3"):
        run(room, s, "late", "error", **TYPE_ERROR)
    assert [c for c, _, _ in summary(room)] == ["late", "early"]
    run(room, "s2", "late", "ok")
    run(room, "s3", "late", "aborted")  # it never ran: s3 is stuck elsewhere, not here
    assert summary(room) == [("early", 1, [("NameError", ["s1"])])]
    run(room, "s1", "early", "error", error_name="KeyError", error_value="'x'")
    assert summary(room) == [("early", 1, [("KeyError", ["s1"])])]  # their newest error only


def test_messages_that_differ_only_in_numbers_or_addresses_are_one_mistake() -> None:
    room = ClassroomActor("c1")
    for s, size in (("s1", 3), ("s2", 10)):
        value = f"index {size} is out of bounds for axis 0 with size {size}"
        run(room, s, "c", "error", error_name="IndexError", error_value=value)
    run(room, "s3", "c", "error", error_name="TypeError", error_value="<object at 0x7f3a2c>")
    run(room, "s4", "c", "error", error_name="TypeError", error_value="<object at 0x1b>\nmore")
    [c] = room.snapshot(at(10))["error_groups"]
    assert [(g["message"], len(g["students"])) for g in c["groups"]] == [
        ("index N is out of bounds for axis N with size N", 2),
        ("<object at 0x…>", 2),
    ]


def test_normalising_keeps_names_one_line_and_bounds_the_length() -> None:
    assert normalised_error("name 'df2' is not defined") == "name 'df2' is not defined"
    assert normalised_error("  a\t b \n c") == "a b"
    assert normalised_error(None) == ""
    long = normalised_error("x" * 10_000)
    assert len(long) == MESSAGE_CHARS and long.endswith("…")


def test_a_student_without_code_or_index_or_message_still_groups() -> None:
    room = ClassroomActor("c1")
    run(room, "s1", "c", "error", cell_index=None)
    [c] = room.snapshot(at(10))["error_groups"]
    assert (c["cell_index"], c["groups"]) == (
        None,
        [{"error_name": None, "message": "", "students": ["s1"], "code": None}],
    )


def test_only_the_cells_most_students_fail_are_carried() -> None:
    room = ClassroomActor("c1")
    for i in range(room.limits.error_cells + 5):
        run(room, "s1", f"cell-{i:03}", "error", cell_index=i, **NAME_ERROR)
    run(room, "s2", "cell-024", "error", cell_index=24, **NAME_ERROR)
    groups = room.snapshot(at(10))["error_groups"]
    assert len(groups) == room.limits.error_cells
    assert [g["cell_id"] for g in groups[:3]] == ["cell-024", "cell-000", "cell-001"]


def test_the_groups_come_back_from_a_checkpoint() -> None:
    room = ClassroomActor("c1")
    for s in ("s1", "s2"):
        run(room, s, "load", "error", code="df.head()", **NAME_ERROR)
    run(room, "s3", "load", "ok")
    restored = checkpoint.restore("c1", checkpoint.dump(room))
    assert summary(restored) == summary(room) == [("load", 2, [("NameError", ["s1", "s2"])])]
