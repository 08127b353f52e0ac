"""The students list: filter, sort and paginate so a 1,000-student class stays readable."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import streamlit as st

from cellmon.views import ClassroomSnapshot, Status, StudentRow
from streamlit_dashboard import display, ui
from streamlit_dashboard.backend import STATUS_COLORS, STATUS_LABELS, STATUSES

# Whose events a row shows: the student's own token proves it; the classroom's cannot.
IDENTITY = {True: "own token", False: "unverified", None: "—"}

PAGE_SIZE = 50
ALL_TEAMS = "All teams"
FILTERS = ("f_status", "f_name", "f_team", "f_sort", "f_page")
KEPT_FILTERS = FILTERS[:4]  # not the page: the list may have fewer pages when it comes back
OPENED = "roster_opened"  # how many students this tab opened from the list
WANTED = "roster_wanted"  # (table key, student id) of the row just clicked


def _name(r: StudentRow) -> str:
    return display.sort_key(display.name(r))


def _team(r: StudentRow) -> tuple[bool, str]:
    return (not display.clean(r.get("team")), display.sort_key(display.team(r)))  # teamless last


SORTS: dict[str, Callable[[StudentRow], Any]] = {
    "Needs attention": lambda r: (STATUSES.index(r["status"]), -r["consecutive_errors"], _name(r)),
    "Name": _name,
    "Team": lambda r: (_team(r), _name(r)),
    "Most errors": lambda r: (-r["errors"], _name(r)),
    "Least progress": lambda r: (r["cells_completed"], _name(r)),
    "Most runs": lambda r: (-r["executions"], _name(r)),
}


def select(
    rows: list[StudentRow], statuses: list[Status], query: str, team: str, sort: str
) -> list[StudentRow]:
    """Rows matching the filters, in the chosen order."""
    q = display.sort_key(query)
    picked = [
        r
        for r in rows
        if (not statuses or r["status"] in statuses)
        and (not q or q in _name(r) or q in display.sort_key(r["student_id"]))
        and (team == ALL_TEAMS or display.team(r) == team)
    ]
    return sorted(picked, key=SORTS.get(sort, SORTS["Needs attention"]))


def frame(rows: list[StudentRow]) -> pd.DataFrame:
    """The table the instructor reads: names first, status in words, times relative."""
    return pd.DataFrame(
        {
            "Name": [display.name(r) for r in rows],
            "Team": [display.team(r) for r in rows],
            "Status": [STATUS_LABELS[r["status"]] for r in rows],
            "Cell": [display.cell_number(r.get("current_cell_index")) for r in rows],
            "Done": [r["cells_completed"] for r in rows],
            "Runs": [r["executions"] for r in rows],
            "Errors": [r["errors"] for r in rows],
            "In a row": [r["consecutive_errors"] for r in rows],
            "Identity": [IDENTITY[r.get("verified")] for r in rows],
            "Last activity": [ui.ago(r["last_activity_at"]) for r in rows],
        }
    )


def _paint(label: str) -> str:
    status = next((s for s, lab in STATUS_LABELS.items() if lab == label), "idle")
    dark = status in ("help", "active", "idle")
    return f"background-color: {STATUS_COLORS[status]}; color: {'white' if dark else '#3a2a00'}"


def _open_student(key: str, shown: list[StudentRow]) -> None:
    # A click on a row opens that student (in the fragment's body: a callback cannot rerun).
    rows = st.session_state[key].selection.rows
    if rows and rows[0] < len(shown):  # the list may have shrunk since it was drawn
        st.session_state[WANTED] = (key, shown[rows[0]]["student_id"])


def students_list(snap: ClassroomSnapshot, n_cells: int) -> None:
    """Filters, then one page of the matching students; a click on a row opens one."""
    st.subheader("Students")
    rows = snap["students"]
    picked = select(rows, *_filters(rows))
    pages = max(1, math.ceil(len(picked) / PAGE_SIZE))
    if st.session_state.get("f_page", 1) > pages:  # filters shrank the list under the page
        st.session_state["f_page"] = 1
    page = 1
    if pages > 1:
        page = int(st.number_input(f"Page (of {pages})", 1, pages, key="f_page", width=160))
    shown = picked[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    key = _table(shown, n_cells)
    first = (page - 1) * PAGE_SIZE + 1 if shown else 0
    note = f"Showing {first} to {first + len(shown) - 1 if shown else 0} of {len(picked):,}"
    if len(picked) > PAGE_SIZE:
        note += f" — {PAGE_SIZE} per page; filter or change page to see more"
    st.caption(note + f" ({len(rows):,} in class). Click a row to open the student.")
    _open_clicked(key)


def _filters(rows: list[StudentRow]) -> tuple[list[Status], str, str, str]:
    """Status, search, team and sort widgets: (statuses, query, team, sort)."""
    teams = sorted({display.team(r) for r in rows}, key=display.sort_key)
    ui.restore(*KEPT_FILTERS)
    a, b, c, d = st.columns([2.2, 2, 1.3, 1.5])
    statuses = a.multiselect(
        "Status",
        STATUSES,
        format_func=lambda s: STATUS_LABELS[s],
        key="f_status",
        placeholder="All",
    )
    query = b.text_input("Search", key="f_name", placeholder="Name or id")
    if st.session_state.get("f_team", ALL_TEAMS) not in (ALL_TEAMS, *teams):  # team left
        st.session_state["f_team"] = ALL_TEAMS
    team = c.selectbox("Team", [ALL_TEAMS, *teams], key="f_team")
    sort = d.selectbox("Sort by", list(SORTS), key="f_sort")
    ui.remember(*KEPT_FILTERS)
    return statuses, query, team, sort


def _table(shown: list[StudentRow], n_cells: int) -> str:
    """The page of students as a selectable table; returns its widget key."""
    # A new table (key) after each open: the browser keeps reporting a table's selection,
    # even while the table is not drawn, and the old click must not reopen the student.
    key = f"roster_table_{st.session_state.get(OPENED, 0)}"
    st.dataframe(
        frame(shown).style.map(_paint, subset=["Status"]),
        hide_index=True,
        key=key,
        on_select=partial(_open_student, key, shown),
        selection_mode="single-row",
        height=min(38 + 35 * len(shown), 560),
        column_config={
            "Done": st.column_config.ProgressColumn(
                "Done", min_value=0, max_value=n_cells, format="%d cells", color="green"
            ),
            "In a row": st.column_config.NumberColumn(help="Consecutive errors"),
        },
    )
    return key


def _open_clicked(key: str) -> None:
    """Open the student of a row just clicked in this table (the fragment reruns the app)."""
    if (want := st.session_state.pop(WANTED, None)) and want[0] == key:
        # The student opens on this same page (?student= in the URL, so it can be bookmarked),
        # never by st.switch_page: see pages/overview.py for why a page switch is unsafe here.
        st.query_params["student"] = want[1]
        st.session_state[OPENED] = st.session_state.get(OPENED, 0) + 1
        st.rerun(scope="app")
