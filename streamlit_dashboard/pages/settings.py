"""Classroom settings: the stuck threshold, the roster and students' own tokens, the seat map,
student data (retention, forgetting a student) and the classroom-wide tokens."""

from __future__ import annotations

import streamlit as st

from streamlit_dashboard import data, display, live, privacy, roster_admin, seat_map, session

room = session.classroom()
cid = room["classroom_id"]
THRESHOLD_MAX = 100  # what the contract's classroom_configured event accepts
ROTATED = f"rotated_tokens:{cid}"  # per classroom: switching class never shows another's tokens
st.title(f"⚙️ Settings · {display.md(room['name'])}")

snap = data.snapshot(cid)
current = int(snap["significant_error_threshold"])
with st.container(border=True):
    st.subheader("Stuck threshold")
    st.caption("A student counts as stuck (yellow) after this many errors in a row.")
    with st.form("threshold"):
        value = st.number_input(
            "Consecutive errors",
            1,
            THRESHOLD_MAX,
            min(max(current, 1), THRESHOLD_MAX),
            key="threshold_value",
            width=220,
        )
        if st.form_submit_button("Save", type="primary"):
            data.set_threshold(cid, int(value))
            st.success(f"Saved: stuck after {int(value)} errors in a row.")

with st.container(border=True):
    roster_admin.section(cid, snap)

with st.container(border=True):
    seat_map.settings_section(cid, live.with_teamless(snap))

with st.container(border=True):
    who = session.instructor_in_tab() or {}
    privacy.section(cid, snap, who.get("email", "an instructor"))

with st.container(border=True):
    st.subheader("Classroom tokens")
    st.caption(
        "Rotating issues a new classroom-wide student token (the existing extension's URL) "
        "and instructor token; the old ones stop working within 30 s. Students' own tokens "
        "stay as they are."
    )
    sure = st.checkbox("I understand the old tokens stop working", key="rotate_sure")
    if st.button("Rotate tokens", disabled=not sure, key="rotate"):
        # Kept in this tab's session, not in a local: a help alert redraws the page, and the
        # new tokens must stay on screen until the instructor says they are copied.
        st.session_state[ROTATED] = data.rotate_tokens(cid)
    if tokens := st.session_state.get(ROTATED):
        st.warning("Copy these now: they are shown only once and are not stored here.", icon="🔐")
        for name, token in tokens.items():
            st.text(name.replace("_", " ").capitalize())
            st.code(token, language=None)
        st.button(
            "I have copied them",
            key="rotated_done",
            on_click=st.session_state.pop,
            args=(ROTATED, None),
        )
