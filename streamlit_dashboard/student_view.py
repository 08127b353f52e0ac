"""One student in full: a picker, status and counters, where they are, their latest code and
error, recent runs and help history. Drawn by the overview (a clicked row, or a bookmarked
?student=) and by the Student detail page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import streamlit as st

from cellmon.views import HelpRecord, StudentDetail, StudentRow
from streamlit_dashboard import charts, data, display, message_form, ui
from streamlit_dashboard.backend import STATUS_LABELS, STATUS_MD

PICKED = "detail_student"
TIMES = ("raised_at", "claimed_at", "resolved_at")


def show(room: dict[str, Any], me: str, back: bool) -> None:
    """The picker and the picked student's live detail; `back` adds a way back to the class."""
    cid = room["classroom_id"]
    st.title(f"🧑‍🎓 Student detail · {display.md(room['name'])}")
    if back:
        st.button("Back to the class", icon="⬅️", key="back_to_class", on_click=close)
    roster = {s["student_id"]: s for s in data.snapshot(cid)["students"]}
    if not roster:
        st.info("No students have connected to this class yet.")
        return
    sid = picker(roster)
    if sid:
        if not data.projecting():  # a private message is not for the room's projector
            message_form.message_form(cid, me, sid, display.name(roster[sid]))
        detail(cid, sid, me)


def close() -> None:
    """Back to the class: the overview draws the class when the URL names no student."""
    st.query_params.pop("student", None)


def picker(roster: dict[str, StudentRow]) -> str | None:
    """Select any student by name; follows and sets ?student= in the URL."""
    wanted = st.query_params.get("student")
    if wanted is not None and wanted not in roster:
        st.warning(f"No student {display.md(wanted)} in this class (yet). Pick another.")
    if wanted in roster and st.session_state.get(PICKED) != wanted:
        st.session_state[PICKED] = wanted
    if st.session_state.get(PICKED, next(iter(roster))) not in roster:
        del st.session_state[PICKED]  # picked in another classroom
    ids = sorted(roster, key=lambda i: (display.sort_key(display.name(roster[i])), i))
    picked: str | None = st.selectbox(
        "Student",
        ids,
        key=PICKED,
        format_func=lambda i: f"{display.name(roster[i])} · {display.team(roster[i])}",
        placeholder="Type a name",
        on_change=lambda: st.query_params.update(student=st.session_state[PICKED]),
    )
    return picked


@st.fragment(run_every="3s")
def detail(cid: str, student_id: str, me: str) -> None:
    """The live detail of one student."""
    s = data.student(cid, student_id)
    if s is None:
        st.warning("This student is no longer in the class.")
        return
    status = s["status"]
    badge = f":{STATUS_MD[status]}-badge[{STATUS_LABELS[status]}]"
    st.markdown(f"## {display.md(display.name(s))} &nbsp; {badge}")
    now = ui.clock(datetime.now(UTC).isoformat())
    who = "pseudonym" if data.projecting() else f"id {display.md(student_id)}"
    st.caption(f"{who} · {display.md(display.team(s))} · live, {now}")
    if since := s.get("help_since"):
        help_bar(cid, student_id, me, since)
    if status == "significant_error":
        stuck_bar(cid, student_id, me, s["consecutive_errors"])
    counters(s)
    where = display.md(display.text(s.get("current_notebook")))
    cell = display.cell_number(s.get("current_cell_index"))
    cell_id = display.md(display.text(s.get("current_cell_id")))
    st.markdown(f"📓 {where} · cell **{cell}** · cell id {cell_id}")
    code, runs = st.columns([1, 1], gap="large")
    with code:
        st.subheader("Latest code")
        if data.projecting():
            st.caption("Hidden in projector mode.")
        else:
            st.code(s.get("last_code") or "# nothing run yet", language="python")
        if s.get("last_error"):
            st.subheader("Latest error")
            st.code(s["last_error"], language="text")
    with runs:
        st.subheader("Recent runs")
        st.altair_chart(charts.timeline_chart(s.get("timeline") or []))
    history(s.get("help_history") or [])
    if by := s.get("errors_resolved_by"):
        when = ui.ago(s.get("errors_resolved_at"))
        st.caption(f"Errors last resolved by {display.md(by)}, {when}.")


def help_bar(cid: str, student_id: str, me: str, since: str) -> None:
    """The open request, with "On my way" and "Resolved"."""
    st.error(f"🙋 Asked for help {ui.ago(since)}.")
    with st.container(horizontal=True):
        args = (cid, student_id, me)
        st.button("On my way", key="d-claim", icon="🏃", on_click=data.claim_help, args=args)
        st.button(
            "Resolved",
            key="d-resolve",
            icon="✅",
            type="primary",
            on_click=data.resolve_help,
            args=args,
        )


def stuck_bar(cid: str, student_id: str, me: str, streak: int) -> None:
    """Flagged for repeated errors, with "Resolve error": the streak restarts from the click."""
    st.warning(f"⚠️ {streak} errors in a row.")
    st.button(
        "Resolve error",
        key="d-resolve-errors",
        icon="✅",
        help="You dealt with it: clears the stuck flag; the error count restarts from now.",
        on_click=data.resolve_errors,
        args=(cid, student_id, me),
    )


def counters(s: StudentDetail) -> None:
    """Runs, errors, the error streak, cells done and the last activity."""
    cols = st.columns(5)
    cols[0].metric("Runs", s["executions"], border=True)
    cols[1].metric("Errors", s["errors"], border=True)
    cols[2].metric("Errors in a row", s["consecutive_errors"], border=True)
    cols[3].metric("Cells done", s["cells_completed"], border=True)
    cols[4].metric("Last activity", ui.ago(s.get("last_activity_at")), border=True)


def history(episodes: list[HelpRecord]) -> None:
    """Every help request, with who came and how long it waited."""
    st.subheader("Help history")
    if not episodes:
        st.caption("Never asked for help.")
        return
    df = pd.DataFrame(episodes)
    for col in TIMES:
        if col in df:
            df[col] = df[col].map(ui.clock)
    if "wait_s" in df:
        df["wait_s"] = df["wait_s"].map(ui.duration)
    st.dataframe(df, hide_index=True, column_config={"wait_s": "waited"})
