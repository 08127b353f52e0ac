"""The Settings page's roster: who is enrolled, each student's own token, and whether the
classroom still takes its classroom-wide token."""

from __future__ import annotations

import csv
import io

import pandas as pd  # type: ignore[import-untyped]
import streamlit as st

from cellmon.roster import RosterRow, read_roster
from cellmon.views import ClassroomSnapshot, StudentRow
from streamlit_dashboard import data, display, ui
from streamlit_dashboard.roster import IDENTITY

TOKEN_COLUMNS = ("student_id", "name", "team", "token")


def section(cid: str, snap: ClassroomSnapshot) -> None:
    """The whole roster section of the Settings page."""
    st.subheader("Students and their own tokens")
    st.caption(
        "Each student's own token sends events only as that student. Names and teams set here "
        "are what the class sees. Tokens are shown once and stored only as digests."
    )
    _token_rule(cid)
    enrolled = [r for r in snap["students"] if r.get("enrolled")]
    _table(enrolled)
    left, right = st.columns(2, gap="large")
    with left:
        _add(cid)
    with right:
        _import(cid)
    if enrolled:
        _manage(cid, enrolled)
    _issued(cid)


def _token_rule(cid: str) -> None:
    required = data.requires_student_tokens(cid)
    wanted = st.toggle(
        "Students must use their own token (the classroom-wide token is refused)",
        value=required,
        key=f"own_tokens_only:{cid}",
    )
    if wanted != required:
        data.require_student_tokens(cid, wanted)
        st.toast("Saved. Every replica follows within 30 s.", icon="🔐")


def _table(enrolled: list[StudentRow]) -> None:
    if not enrolled:
        st.caption("Nobody is enrolled yet: add students below, or import a roster.")
        return
    st.dataframe(
        pd.DataFrame(
            {
                "Student id": [display.clean(r["student_id"]) for r in enrolled],
                "Name": [display.name(r) for r in enrolled],
                "Team": [display.team(r) for r in enrolled],
                "Identity": [IDENTITY[r.get("verified")] for r in enrolled],
                "Last seen": [ui.ago(r["last_seen_at"]) for r in enrolled],
            }
        ),
        hide_index=True,
        height=min(38 + 35 * len(enrolled), 400),
    )


def _add(cid: str) -> None:
    with st.form(f"enroll:{cid}", clear_on_submit=True):
        st.markdown("**Add a student**")
        sid = st.text_input("Student id (their login or email)", key="enroll_id")
        name = st.text_input("Name the class sees (optional)", key="enroll_name")
        team = st.text_input("Team (optional)", key="enroll_team")
        if st.form_submit_button("Add and issue a token", type="primary") and sid.strip():
            _issue(cid, [RosterRow(sid.strip(), name.strip() or None, team.strip() or None)])


def _import(cid: str) -> None:
    st.markdown("**Import a roster** (CSV with columns `student_id,name,team`)")
    upload = st.file_uploader("Roster CSV", type=["csv"], key=f"roster_csv:{cid}")
    if upload is None or not st.button("Enroll everyone in it", key="enroll_roster"):
        return
    rows, problems = read_roster(upload.getvalue().decode("utf-8-sig", errors="replace"))
    if problems:
        st.error("Nobody was enrolled:\n\n" + "\n".join(f"- {display.md(p)}" for p in problems))
    else:
        _issue(cid, rows)


def _manage(cid: str, enrolled: list[StudentRow]) -> None:
    ids = [r["student_id"] for r in enrolled]
    names = {r["student_id"]: display.name(r) for r in enrolled}
    pick, new, drop = st.columns([3, 1, 1], vertical_alignment="bottom")
    sid = pick.selectbox("Student", ids, format_func=names.__getitem__, key="roster_pick")
    if new.button("New token", key="roster_rotate") and sid:
        token = data.rotate_student_token(cid, sid)
        _keep(cid, [{"student_id": sid, "name": names[sid], "team": "", "token": token}])
    if drop.button("Remove", key="roster_remove") and sid:
        data.remove_student(cid, sid)
        st.toast(f"{names[sid]} is off the roster; their token stops within 30 s.", icon="🗑️")
        st.rerun()


def _issue(cid: str, rows: list[RosterRow]) -> None:
    issued = [
        {
            "student_id": r.student_id,
            "name": r.name or "",
            "team": r.team or "",
            "token": data.enroll(cid, r.student_id, r.name, r.team),
        }
        for r in rows
    ]
    _keep(cid, issued)
    st.rerun()  # the roster above was drawn before they were enrolled


def _keep(cid: str, issued: list[dict[str, str]]) -> None:
    # Kept in this tab's session until the instructor confirms: a help alert redraws the page.
    key = f"issued_tokens:{cid}"
    st.session_state[key] = [*st.session_state.get(key, []), *issued]


def _issued(cid: str) -> None:
    key = f"issued_tokens:{cid}"
    issued = st.session_state.get(key)
    if not issued:
        return
    st.warning(
        f"{len(issued)} new token(s): download them now, they are shown only once.", icon="🔐"
    )
    st.dataframe(pd.DataFrame(issued, columns=list(TOKEN_COLUMNS)), hide_index=True)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=TOKEN_COLUMNS)
    writer.writeheader()
    writer.writerows(issued)
    st.download_button(
        "Download the tokens (CSV)",
        out.getvalue(),
        file_name=f"{cid}-tokens.csv",
        mime="text/csv",
        key="download_tokens",
    )
    st.button(
        "I have handed them out", key="issued_done", on_click=st.session_state.pop, args=(key, None)
    )
