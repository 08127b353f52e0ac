"""Student detail: runs over time, where they are, their latest code and error, help history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from streamlit_dashboard import charts, data, session, ui
from streamlit_dashboard.backend import STATUS_LABELS, STATUS_MD

room = session.classroom()
me = session.instructor() or {"name": "?"}
cid = room["classroom_id"]
st.title(f"🧑‍🎓 Student detail · {room['name']}")
# The layout goes out before the snapshot call: an overview fragment's last poll can still
# arrive as the page changes, and Streamlit's frontend crashes (a white page) on a delta for a
# position the new page does not have yet. With these in place, it lands on a slot and is redrawn.
picker, body = st.container(), st.container()

roster = {s["student_id"]: s for s in data.snapshot(cid)["students"]}
if not roster:
    picker.info("No students have connected to this class yet.")
    st.stop()
ids = sorted(roster, key=lambda i: roster[i]["name"])
wanted = st.query_params.get("student")  # a row clicked on the overview, or a bookmark
if wanted in roster and st.session_state.get("detail_student") != wanted:
    st.session_state["detail_student"] = wanted
sid = picker.selectbox(
    "Student",
    ids,
    key="detail_student",
    format_func=lambda i: f"{roster[i]['name']} · {roster[i]['team']}",
    placeholder="Type a name",
    on_change=lambda: st.query_params.update(student=st.session_state["detail_student"]),
)


@st.fragment(run_every="3s")
def detail(student_id: str) -> None:
    """The live detail of one student."""
    s = data.student(cid, student_id)
    if s is None:
        st.warning("This student is no longer in the class.")
        return
    status = s["status"]
    st.markdown(f"## {s['name']} &nbsp; :{STATUS_MD[status]}-badge[{STATUS_LABELS[status]}]")
    if s.get("help_since"):
        st.error(f"🙋 Asked for help {ui.ago(s['help_since'])}.")
        with st.container(horizontal=True):
            args = (cid, student_id, me["name"])
            st.button("On my way", key="d-claim", icon="🏃", on_click=data.claim_help, args=args)
            st.button(
                "Resolved",
                key="d-resolve",
                icon="✅",
                type="primary",
                on_click=data.resolve_help,
                args=args,
            )
    cols = st.columns(5)
    cols[0].metric("Runs", s["executions"], border=True)
    cols[1].metric("Errors", s["errors"], border=True)
    cols[2].metric("Errors in a row", s["consecutive_errors"], border=True)
    cols[3].metric("Cells done", s["cells_completed"], border=True)
    cols[4].metric("Last activity", ui.ago(s["last_activity_at"]), border=True)
    st.markdown(
        f"📓 `{s['current_notebook'] or '—'}` · cell **{(s['current_cell_index'] or 0) + 1}**"
        f" (`{s.get('current_cell_id') or '—'}`) · {s['team']}"
    )
    code, runs = st.columns([1, 1], gap="large")
    with code:
        st.subheader("Latest code")
        st.code(s.get("last_code") or "# nothing run yet", language="python")
        if s.get("last_error"):
            st.subheader("Latest error")
            st.code(s["last_error"], language="text")
    with runs:
        st.subheader("Recent runs")
        st.altair_chart(charts.timeline_chart(s["timeline"]))
    st.subheader("Help history")
    history = s.get("help_history") or []
    if history:
        df = pd.DataFrame(history)
        for col in ("raised_at", "claimed_at", "resolved_at"):
            df[col] = df[col].map(ui.clock)
        df["wait_s"] = df["wait_s"].map(ui.duration)
        st.dataframe(df, hide_index=True, column_config={"wait_s": "waited"})
    else:
        st.caption("Never asked for help.")


if sid:
    with body:
        detail(sid)
