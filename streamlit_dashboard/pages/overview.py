"""Class overview: summary, help, seats, where the class is stuck, students, cell progress and
activity, all live.

A clicked row opens its student here, in place of the class (?student= in the URL), never by
switching pages: a page switch made by the server races the browser's `run_every` timers.
Until the browser hears of the new page, every tick of the sidebar's alert poll asks for a
fragment rerun under the old page's hash. Streamlit runs that request after the new page, as
a run of the old page, and the browser takes its start message for a page change: it drops the
new page's elements, keeping only app.py's style element. The next delta of the new page's own
fragment then points past it ("Bad delta path index 3 (should be between [0, 1])"): a white
page. Page changes the browser starts itself (the sidebar's links) stop its timers first.
"""

from __future__ import annotations

import streamlit as st

from cellmon.views import ClassroomSnapshot
from streamlit_dashboard import (
    charts,
    data,
    display,
    live,
    message_form,
    roster,
    session,
    stuck_cells,
    student_view,
    ui,
)
from streamlit_dashboard.backend import WINDOWS

MAX_CELLS = 60

room = session.classroom()
me = session.instructor_in_tab() or {"name": "?"}
cid = room["classroom_id"]


@st.fragment(run_every="2s")
def live_panel() -> None:
    """Everything that follows the snapshot; one snapshot per refresh."""
    snap = data.snapshot(cid)
    st.caption(
        f"Live · updated {ui.clock(snap['generated_at'])} · "
        f"stuck threshold {snap['significant_error_threshold']} errors in a row"
    )
    live.summary_cards(snap["summary"])
    live.banners(snap)
    left, right = st.columns([1, 1], gap="large")
    with left:
        live.help_queue(snap, me["name"])
    with right:
        live.seat_view(snap)
    stuck_cells.where_stuck(snap)
    roster.students_list(snap, n_cells=len(snap["cells"]))
    progress(snap)


def progress(snap: ClassroomSnapshot) -> None:
    """Per-cell heat map in notebook order, the first cells when a class has run very many."""
    st.subheader("Progress by cell")
    cells = snap["cells"]
    if not cells:
        st.caption("No cell has been run yet.")
        return
    st.altair_chart(charts.cell_heatmap(cells[:MAX_CELLS], snap["summary"]["students"]))
    if len(cells) > MAX_CELLS:
        st.caption(f"The first {MAX_CELLS} of {len(cells):,} cells, in notebook order.")


@st.fragment(run_every="10s")
def activity_panel() -> None:
    """Executions, errors and help over the chosen window."""
    head, pick = st.columns([4, 1], vertical_alignment="bottom")
    head.subheader("Activity")
    window = pick.segmented_control(
        "Window",
        WINDOWS,
        default="1h",
        required=True,
        key="activity_window",
        label_visibility="collapsed",
    )
    st.altair_chart(charts.activity_chart(data.activity(cid, window or "1h"), window or "1h"))


if st.query_params.get("student"):  # a clicked row, or a bookmark
    ui.keep_state(*roster.FILTERS, "activity_window")
    student_view.show(room, me["name"], back=True)
else:
    st.title(f"📊 {display.md(room['name'])}")
    message_form.class_messages(cid, me["name"])
    live_panel()
    activity_panel()
