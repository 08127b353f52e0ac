"""Who is logged in and which classroom they are looking at, kept in st.session_state."""

from __future__ import annotations

from typing import Any

import streamlit as st

from actors.adapters.accounts import SignInThrottled
from streamlit_dashboard import data

USER = "instructor"
CLASSROOM = "classroom_id"


def instructor() -> dict[str, str] | None:
    """The logged-in instructor as {"email", "name"}, or None."""
    return st.session_state.get(USER)


def login_form() -> None:
    """Email + password form; stores the instructor on success."""
    _, mid, _ = st.columns([1, 1.4, 1])
    with mid:
        st.title("🧑‍🏫 Cell Monitor")
        st.caption("Live view of your class's notebooks. Sign in with your instructor account.")
        with st.form("login"):
            email = st.text_input("Email", key="login_email")
            password = st.text_input("Password", type="password", key="login_password")
            submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
        if submitted:
            try:
                who = data.backend().login(email, password, st.context.ip_address or "")
            except SignInThrottled as wait:
                st.error(f"Too many failed sign-ins. Try again in {wait.wait_s:.0f} s.")
                return
            if who is None:
                st.error("Wrong email or password.")
            else:
                st.session_state[USER] = {"email": who.email, "name": who.name}
                st.rerun()


def logout() -> None:
    """Forget everything this tab held: the instructor, their picks, alert cursors and any
    freshly rotated tokens. The next person at this browser starts from the sign-in form."""
    st.session_state.clear()


def classroom_picker(email: str) -> dict[str, Any] | None:
    """Sidebar select of this instructor's classes; returns the chosen one."""
    rooms = {r["classroom_id"]: r for r in data.classrooms(email)}
    if not rooms:
        return None
    if st.session_state.get(CLASSROOM) not in rooms:  # first visit: honour a bookmarked ?classroom=
        wanted = st.query_params.get("classroom")
        st.session_state[CLASSROOM] = wanted if wanted in rooms else next(iter(rooms))
    st.sidebar.selectbox(
        "Classroom", list(rooms), key=CLASSROOM, format_func=lambda cid: rooms[cid]["name"]
    )
    st.query_params["classroom"] = st.session_state[CLASSROOM]
    return rooms[st.session_state[CLASSROOM]]


def classroom() -> dict[str, Any]:
    """The current classroom for a page; stops the page when there is none."""
    room: dict[str, Any] | None = st.session_state.get("classroom")
    if room is None:
        st.info("You have no classrooms yet. Ask an administrator to add you to one.")
        st.stop()
    return room
