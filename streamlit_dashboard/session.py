"""Who is signed in and which classroom they are looking at.

A sign-in survives a reload: the browser keeps a random session token in a cookie (set by a
script, since Streamlit has no API for it) and the server keeps its digest and expiry
(PostgreSQL, `actors.adapters.accounts`), so signing out ends it in every tab at once: each
tab checks its session on every run and on the sidebar's alert poll, every 2 s.

Schools with single sign-on give Streamlit an `[auth]` section (OIDC) in its secrets; then the
sign-in form also offers "Sign in with your school account" (`st.login`). The identity the
provider vouched for opens the same kind of session, for an instructor account with that
email. Streamlit keeps that identity in its own cookie for 30 days and every tab of the browser
reads it, so a sign-out also voids any identity issued before it (`sso_not_before`): the
next sign-in goes through the provider again. Signing out here does not sign the teacher out
of their school account.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from actors.adapters.accounts import NoInstructorAccount, SignInThrottled
from cellmon.settings import Settings
from streamlit_dashboard import data, display

log = logging.getLogger("cellmon.dashboard")
USER = "instructor"
CLASSROOM = "classroom_id"
TOKEN = "session_token"  # this tab's session
COOKIE = "cellmon_session"
_COOKIE_CHANGE = "cookie_change"  # the token to store, or "" to clear, on the next render
_CHECKED = "session_checked_at"
_REFUSED = "sso_refused"  # why the school's sign-in did not open a session, to show the teacher
CHECK_EVERY_S = 2.0  # how stale "still signed in" may be: one alert poll
LOGOUT = "logout"  # ?logout=1: sign out, then show the sign-in form
# A link, not a button: the browser loads the page afresh, which stops the old page's fragment
# timers first. A sign-out drawn by the server as a page change raced those timers and could
# leave a white page (see pages/overview.py).
LOGOUT_LINK = f'<a class="cm-logout" href="/?{LOGOUT}=1" target="_self">🚪 Log out</a>'


def instructor() -> dict[str, str] | None:
    """The signed-in instructor as {"email", "name"}, or None: from this tab's state while its
    session lives, else from the cookie the browser sent when this tab connected (a reload)."""
    who = instructor_in_tab()
    if who is not None:
        return who if still_signed_in() else None
    token = st.context.cookies.get(COOKIE)
    found = data.backend().resume_session(token) if token else None
    if not token or found is None:
        return _from_school_sign_on()
    _holds(token, {"email": found.email, "name": found.name})
    return instructor_in_tab()


def school_sign_on() -> bool:
    """Whether a school's identity provider is configured (`[auth]` in Streamlit's secrets)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def _from_school_sign_on() -> dict[str, str] | None:
    """A new session for the identity the school's provider vouched for, if it may have one."""
    if not school_sign_on():
        return None
    claims = st.user.to_dict()
    if not claims.get("is_logged_in"):
        return None
    email, issued = claims.get("email"), claims.get("iat")
    if not isinstance(email, str) or not isinstance(issued, int | float):
        log.warning("single sign-on identity without email or iat; not signed in")
        return None
    if claims.get("email_verified") is False:  # the provider says the address is not theirs
        st.session_state[_REFUSED] = (
            f"Your school signed you in as {display.md(email)} but has not verified that "
            "address. Ask your school's IT to verify it, or sign in with a password."
        )
        return None
    try:
        opened = data.backend().sso_session(email, datetime.fromtimestamp(issued, UTC))
    except NoInstructorAccount:
        st.session_state[_REFUSED] = (
            f"Your school signed you in as {display.md(email)}, which has no instructor "
            "account here. Ask your Cell Monitor administrator to add it."
        )
        return None
    if opened is None:  # issued before their last sign-out
        return None
    token, found = opened
    _signed_in(token, {"email": found.email, "name": found.name})
    return instructor_in_tab()


def _signed_in(token: str, who: dict[str, str]) -> None:
    """This tab holds a new session; the browser's cookie gets it on this run."""
    _holds(token, who)
    st.session_state[_COOKIE_CHANGE] = token


def _holds(token: str, who: dict[str, str]) -> None:
    """This tab holds `who`'s session from now on. Their classes are read afresh: a class
    granted a minute ago shows at the sign-in, not when the list's cache expires."""
    st.session_state[TOKEN], st.session_state[USER] = token, who
    st.session_state[_CHECKED] = time.monotonic()
    data.classrooms.clear(who["email"])


def instructor_in_tab() -> dict[str, str] | None:
    """Who this tab's state says is signed in, without checking the session: what pages use,
    since app.py checked it at the start of the run. A page that checked again could find the
    session ended halfway through drawing itself and clear the tab's state under it; the tab
    then showed the class with nobody signed in, and its alert poll, finding nobody, stopped."""
    who: dict[str, str] | None = st.session_state.get(USER)
    return who


def still_signed_in() -> bool:
    """False once this tab's session ended (signed out in another tab) or expired; then the
    tab forgets everything, as if it had signed out itself."""
    token = st.session_state.get(TOKEN)
    checked = st.session_state.get(_CHECKED, 0.0)
    if token is not None and time.monotonic() - checked < CHECK_EVERY_S:
        return True
    try:
        live = token is not None and data.backend().resume_session(token) is not None
    except Exception:  # the accounts store is down: the class view (actors) still works
        log.warning("cannot check the dashboard session; keeping it for now", exc_info=True)
        live = True
    if live:
        st.session_state[_CHECKED] = time.monotonic()
        return True
    st.session_state.clear()
    st.session_state[_COOKIE_CHANGE] = ""
    return False


def write_cookie() -> None:
    """Store or clear the session cookie, once, after a sign-in or a sign-out."""
    change = st.session_state.pop(_COOKIE_CHANGE, None)
    if change is None:
        return
    lasts = int(Settings().dashboard_session_hours * 3600) if change else 0
    cookie = f"{COOKIE}=" + change + f"; Path=/; Max-Age={lasts}; SameSite=Strict"
    script = (
        "<script>document.cookie = "
        + json.dumps(cookie)
        + " + (location.protocol === 'https:' ? '; Secure' : '');</script>"
    )
    st.html(script, unsafe_allow_javascript=True)


def reload_page() -> None:
    """Have the browser load the app afresh (it then shows the sign-in form). Not a rerun from
    the server: a fragment's `st.rerun(scope="app")` while the page's timers still tick raced
    them and, once in a CI run, left the other tab of a sign-out white (pages/overview.py
    explains the race); a load the browser starts stops its timers first, as the sign-out
    link's does."""
    st.html("<script>window.location.replace('/')</script>", unsafe_allow_javascript=True)


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
                token = data.backend().open_session(who.email)
                _signed_in(token, {"email": who.email, "name": who.name})
                st.rerun()
        if school_sign_on():
            school_button()


def school_button() -> None:
    """Single sign-on through the school's identity provider (Streamlit's OIDC)."""
    st.button("Sign in with your school account", icon="🏫", width="stretch", on_click=st.login)
    refused = st.session_state.get(_REFUSED)
    if refused:
        st.error(refused)


def sign_out_if_asked() -> None:
    """Sign out when the page was opened with ?logout=1 (the sidebar's "Log out" link)."""
    if st.query_params.get(LOGOUT) is not None:
        logout()
        del st.query_params[LOGOUT]


def logout() -> None:
    """End the session (every tab of this browser is signed out on its next run) and forget
    everything this tab held: the instructor, their picks, alert cursors and any freshly
    rotated tokens. The next person at this browser starts from the sign-in form."""
    token = st.session_state.get(TOKEN) or st.context.cookies.get(COOKIE)
    if token:
        data.backend().end_session(token)
    st.session_state.clear()
    st.session_state[_COOKIE_CHANGE] = ""


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
