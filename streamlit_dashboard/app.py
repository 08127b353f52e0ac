"""Cell Monitor instructor dashboard: `streamlit run streamlit_dashboard/app.py`."""

from __future__ import annotations

import streamlit as st

from streamlit_dashboard import data, display, live, session, ui

st.set_page_config(page_title="Cell Monitor", page_icon="🧑‍🏫", layout="wide")
ui.style()

session.sign_out_if_asked()
who = session.instructor()
if who is None:
    st.navigation(
        [st.Page(session.login_form, title="Sign in", icon="🔑")], position="hidden"
    ).run()
    session.write_cookie()  # cleared after a sign-out
else:
    with st.sidebar:
        st.markdown(f"**{display.md(who['name'])}**  \n{display.md(who['email'])}")
    room = st.session_state["classroom"] = session.classroom_picker(who["email"])
    pages = [
        st.Page("pages/overview.py", title="Class overview", icon="📊", default=True),
        st.Page("pages/student.py", title="Student detail", icon="🧑‍🎓"),
        st.Page("pages/settings.py", title="Settings", icon="⚙️"),
    ]
    page = st.navigation(pages)
    st.sidebar.toggle(
        "Projector mode",
        value=data.projecting(),
        key="projection_toggle",
        help="For the room's projector: pseudonyms instead of names, and no code.",
        on_change=data.project,
    )
    st.sidebar.markdown(session.LOGOUT_LINK, unsafe_allow_html=True)
    if room is not None:
        # In the sidebar, drawn before any page: the alert poll sits at the same place on every
        # page, so a poll that lands as the page changes never writes into the wrong layout.
        with st.sidebar:
            live.help_alerts(room["classroom_id"])
    with st.sidebar:  # last in the sidebar: the alert poll's place never moves
        session.write_cookie()  # set after a sign-in
    page.run()
