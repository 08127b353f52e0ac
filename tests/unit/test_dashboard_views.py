"""The dashboard's pure pieces on the values a plain JupyterLab and a hostile client produce."""

from __future__ import annotations

from typing import Any

import pytest

from streamlit_dashboard import charts, display, live, roster, ui

pytestmark = pytest.mark.unit


def row(sid: str, name: str | None = None, team: str | None = None, **kw: Any) -> dict[str, Any]:
    base = {"student_id": sid, "name": name, "team": team, "status": "active"}
    counters = {"consecutive_errors": 0, "errors": 0, "cells_completed": 0, "executions": 0}
    return {**base, **counters, "current_cell_index": None, "last_activity_at": None, **kw}


ROWS = [row("u3"), row("u1", "Zoë", "T2"), row("u2", None, "T1"), row("u4", "adam", None)]


@pytest.mark.parametrize("sort", list(roster.SORTS))
def test_every_sort_orders_rows_without_names_or_teams(sort: str) -> None:
    assert len(roster.select(ROWS, [], "", roster.ALL_TEAMS, sort)) == len(ROWS)


def test_name_sort_uses_the_id_for_students_without_a_name() -> None:
    ordered = roster.select(ROWS, [], "", roster.ALL_TEAMS, "Name")
    assert [display.name(r) for r in ordered] == ["adam", "u2", "u3", "Zoë"]


def test_team_sort_puts_students_without_a_team_last() -> None:
    ordered = roster.select(ROWS, [], "", roster.ALL_TEAMS, "Team")
    assert [r["student_id"] for r in ordered] == ["u2", "u1", "u4", "u3"]


def test_search_and_team_filter_match_fallbacks() -> None:
    assert [r["student_id"] for r in roster.select(ROWS, [], "U2", roster.ALL_TEAMS, "Name")] == [
        "u2"
    ]
    teamless = roster.select(ROWS, [], "", display.NO_TEAM, "Name")
    assert [r["student_id"] for r in teamless] == ["u4", "u3"]


def test_table_shows_ids_and_placeholders() -> None:
    table = roster.frame(
        [row("u1", current_cell_index=None), row("u2", "Kai", current_cell_index=4)]
    )
    assert table["Name"].tolist() == ["u1", "Kai"]
    assert table["Team"].tolist() == [display.NO_TEAM, display.NO_TEAM]
    assert table["Cell"].tolist() == [display.BLANK, "5"]


def test_cell_labels_are_unique_without_indices_and_across_notebooks() -> None:
    cells = [
        {"notebook_path": "a.ipynb", "cell_id": "c-1", "cell_index": 0},
        {"notebook_path": "a.ipynb", "cell_id": "0123456789abcdef-1", "cell_index": None},
        {"notebook_path": "a.ipynb", "cell_id": "0123456789abcdef-2", "cell_index": None},
        {"notebook_path": None, "cell_id": "c-9", "cell_index": 2**70},
    ]
    labels = charts.cell_labels(cells)
    assert len(set(labels)) == 4
    assert labels[0] == "a.ipynb · Cell 1" and labels[3].startswith("— · Cell c-9")


def test_charts_take_runs_without_cell_index_and_unreadable_times() -> None:
    runs = [
        {"time": "2024-03-04T09:00:00+00:00", "cell_index": None, "status": "error"},
        {"time": "2024-03-04T09:00:01.5+02:00", "cell_index": 3, "status": "ok"},
        {"time": "not a time", "cell_index": 2**70, "status": "ok", "error_name": "<b>"},
    ]
    assert charts.timeline_chart(runs).to_dict()
    buckets = [{"time": "0001-01-01T00:00:00+14:00", "executions": 1, "errors": 0, "help": 0}]
    assert charts.activity_chart(buckets).to_dict()


@pytest.mark.parametrize(
    "ts", [None, "", "garbage", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
)
def test_times_out_of_range_or_unreadable_show_a_placeholder(ts: str | None) -> None:
    assert ui.ago(ts) == display.BLANK or ui.ago(ts).endswith(" ago")
    assert ui.clock(ts) == display.BLANK or len(ui.clock(ts)) == len("09:00:00")


def test_durations_of_any_size() -> None:
    assert ui.duration(float("inf")) == display.BLANK
    assert ui.duration(-5) == "0 s"
    assert ui.duration(17e6 * 3600).endswith("min")


def test_students_without_a_team_get_their_own_card() -> None:
    snap = {
        "teams": [{"team": "T1", "members": ["u2"], "by_status": {"active": 1}}],
        "students": ROWS,
    }
    teams = live.with_teamless(snap)
    assert [t["team"] for t in teams] == ["T1", ""]  # "" is shown as "no team"
    assert set(teams[1]["members"]) == {"u1", "u3", "u4"}
    html = ui.team_cards(teams, {r["student_id"]: r for r in ROWS})
    assert f"<span>{display.NO_TEAM}</span>" in html


def test_a_crowded_card_shows_the_most_urgent_first_then_a_count() -> None:
    crowd = [row(f"u{i}", status="help" if i == 99 else "idle") for i in range(100)]
    team = {"team": None, "members": [r["student_id"] for r in crowd], "by_status": {}}
    html = ui.team_cards([team], {r["student_id"]: r for r in crowd})
    assert html.count('class="cm-chip') == ui.CHIPS_PER_CARD + 1
    assert html.index(">u99<") < html.index(">u0<") and "&#43;60 more" in html
