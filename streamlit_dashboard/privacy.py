"""The Settings page's student data: asking for research consent (and who answered what), how
long events are kept, and forgetting a student who asks to be forgotten (every store, for good,
after the instructor types their id)."""

from __future__ import annotations

from collections import Counter

import streamlit as st

from cellmon.limits import RETENTION_DAYS_MAX
from cellmon.views import ClassroomSnapshot
from streamlit_dashboard import data, display


def section(cid: str, snap: ClassroomSnapshot, instructor: str) -> None:
    """The whole student-data section of the Settings page."""
    st.subheader("Student data")
    _consent(cid, snap)
    st.divider()
    _retention(cid)
    st.divider()
    _forget(cid, snap, instructor)


def _consent(cid: str, snap: ClassroomSnapshot) -> None:
    asked = bool(snap.get("consent_required"))
    wanted = st.toggle(
        "Ask students for research consent (their JupyterLab asks once)",
        value=asked,
        key=f"consent_required:{cid}",
    )
    if wanted != asked:
        data.set_consent_policy(cid, wanted)
        st.toast("Saved: " + ("students are asked." if wanted else "students are not asked."))
        st.rerun()
    answers = Counter(row.get("research_consent") for row in snap["students"])
    st.caption(
        f"Agreed: {answers[True]} · declined or withdrew: {answers[False]} · not answered: "
        f"{answers[None]}. Your live view shows everyone either way. While this asks, research "
        "reads and exports hold only the students who agreed; one who declined is never in them."
    )


def _retention(cid: str) -> None:
    days = data.retention_days(cid)
    st.markdown(f"**Kept:** {'for good' if days is None else f'{days} days'}")
    st.caption(
        "Older activity (cell runs, hands, messages), the state it built and its charts are "
        "purged every hour, counted from when the server received it. The roster and these "
        "settings stay. 0 keeps everything."
    )
    with st.form(f"retention:{cid}"):
        wanted = st.number_input(
            "Keep events for (days)", 0, RETENTION_DAYS_MAX, days or 0, key="retention_days"
        )
        if st.form_submit_button("Save retention"):
            data.set_retention(cid, int(wanted) or None)
            st.toast("Saved: " + (f"kept {int(wanted)} days." if wanted else "kept for good."))
            st.rerun()  # "Kept" above was drawn before the change


def _forget(cid: str, snap: ClassroomSnapshot, instructor: str) -> None:
    st.markdown("**Forget a student**")
    st.caption(
        "When a student asks to be forgotten: deletes their events, their place in checkpoints, "
        "charts and the live view, their roster line and their own token. It cannot be undone. "
        "A record that a deletion happened is kept, without their id or name."
    )
    students = sorted(snap["students"], key=lambda row: display.name(row).lower())
    if not students:
        st.caption("Nobody has sent anything yet.")
        return
    names = {row["student_id"]: display.name(row) for row in students}
    with st.form(f"forget:{cid}", clear_on_submit=True):
        sid = st.selectbox(
            "Student",
            list(names),
            format_func=lambda s: f"{names[s]} ({display.clean(s)})",
            key="forget_pick",
        )
        typed = st.text_input("Type their student id to confirm", key="forget_confirm")
        if st.form_submit_button("Forget this student", type="primary") and sid:
            if typed.strip() != sid:
                st.error("The id typed does not match: nothing was deleted.")
                return
            done = data.forget_student(cid, sid, instructor)
            st.success(
                f"Forgotten: {done['events']:,} events and {done['points']:,} chart points "
                "deleted; the class was rebuilt without them."
            )
