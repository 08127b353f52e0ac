"""A roster CSV: every bad line is named before anyone is enrolled."""

from __future__ import annotations

import pytest

from cellmon.roster import RosterRow, read_roster

pytestmark = pytest.mark.unit


def test_rows_with_optional_name_and_team() -> None:
    rows, problems = read_roster("student_id,name,team\nana,Ana Lima,Team 1\n bo ,,\n")
    assert problems == []
    assert rows == [RosterRow("ana", "Ana Lima", "Team 1"), RosterRow("bo")]


def test_bad_lines_are_all_named() -> None:
    text = "student_id,name\nana,Ana\n,Nobody\nana,Again\n" + "x" * 129 + ",Long\n"
    rows, problems = read_roster(text)
    assert rows == [RosterRow("ana", "Ana")]
    assert problems == [
        "line 3: student_id must be 1 to 128 characters",
        "line 4: 'ana' is listed twice",
        "line 5: student_id must be 1 to 128 characters",
    ]


@pytest.mark.parametrize("text", ["", "name,team\nAna,1\n", "ana,Ana\n"])
def test_a_file_without_the_header_is_refused(text: str) -> None:
    rows, problems = read_roster(text)
    assert rows == [] and problems == ["the first line must name the columns: student_id,name,team"]
