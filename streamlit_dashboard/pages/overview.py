"""Class overview: summary, help, seats, students, cell progress and activity, all live."""

from __future__ import annotations

from typing import Any

import streamlit as st

from streamlit_dashboard import charts, data, display, live, roster, session, ui
from streamlit_dashboard.backend import WINDOWS

MAX_CELLS = 60

room = session.classroom()
me = session.instructor() or {"name": "?"}
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
    roster.students_list(snap, n_cells=len(snap["cells"]))
    progress(snap)


def progress(snap: dict[str, Any]) -> None:
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


st.title(f"📊 {display.md(room['name'])}")
live_panel()
activity_panel()
