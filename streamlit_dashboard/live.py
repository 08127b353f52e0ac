"""Live overview pieces: the help alert beep, the summary cards, the banners and the help queue."""

from __future__ import annotations

import time
from collections import Counter

import streamlit as st

from cellmon.views import ClassroomSnapshot, HelpEntry, Summary, TeamRow
from streamlit_dashboard import data, display, seat_map, session, ui
from streamlit_dashboard.alert_watch import AlertWatch
from streamlit_dashboard.backend import STATUS_MD
from streamlit_dashboard.beep import beep_wav

STUCK_NAMED = 10
HELP_NAMED = 40  # a whole lecture's hands would be a wall of names; the queue lists them all
TOASTED = 5
ALERT_POLL = "0.25s"  # the feed is an in-process deque: a poll costs the tab one tiny rerun
ALERTS_KEY = "alert_watch:"  # + classroom id
QUEUE_SHOWN = 12  # beyond this the queue is a wall of buttons; the banner still names everyone
CARDS = (
    ("Students", "students", "blue", None),
    ("Active", "active", STATUS_MD["active"], None),
    ("Idle", "idle", STATUS_MD["idle"], None),
    ("Errors", "error", STATUS_MD["error"], "Students with an error in the last 5 minutes"),
    ("Stuck", "significant_error", STATUS_MD["significant_error"], "At or over the threshold"),
    ("Runs", "executions", "blue", "Cell runs (executions) this session"),
    ("Help", "help", STATUS_MD["help"], "Students asking for help"),
)


@st.fragment(run_every=ALERT_POLL)
def help_alerts(classroom_id: str) -> None:
    """Show a new help request at once: name it, redraw the page around it, beep.

    The live panel only refreshes every 2 s; waiting for it would put a raised hand on screen
    up to 2 s late. So the tick that finds a hand names it in a toast, a later tick reruns the
    whole page on a snapshot read after it, and the run that follows mounts the beep and names
    the hands again (`AlertWatch` says why in two ticks).
    """
    # Signed out in another tab (found now, or by an earlier run of this tab): to the sign-in
    # form. Drawn on every tick until the browser leaves, not once: a tick that drew nothing
    # would replace the reload before the browser ran it, and strand the tab on a dead class.
    if session.instructor_in_tab() is None or not session.still_signed_in():
        session.reload_page()
        return
    key = f"{ALERTS_KEY}{classroom_id}"
    watch = st.session_state.get(key)
    if watch is None:  # first look: what is already in the feed never beeps
        st.session_state[key] = AlertWatch.starting_after(data.alerts(classroom_id, 0))
        return
    names, redraw = watch.take(data.alerts(classroom_id, watch.cursor), time.monotonic())
    if redraw:
        data.hands_seen_up_to(classroom_id, watch.cursor)  # not what was cached before it
        st.rerun(scope="app")
    mounted, again = watch.beep(time.monotonic())
    if mounted:  # re-rendered unchanged while mounted, so the tone plays once
        with st.container(key="cm-beep"):
            st.audio(beep_wav(), format="audio/wav", autoplay=True)
    if again or names:
        st.toast(f"🙋 {named(again + names, TOASTED)} asked for help", icon="🔔")


def named(names: list[str], limit: int, bold: bool = False) -> str:
    """Up to `limit` escaped names, then how many more: for a banner or a toast."""
    shown = [display.md(n) for n in names[:limit]]
    text = ", ".join(f"<b>{n}</b>" for n in shown) if bold else ", ".join(shown)
    more = len(names) - limit
    return text + (f" and {more:,} more" if more > 0 else "")


def big(n: int) -> str:
    """A card number that fits: 1,000 stays, 16,880 becomes 16.9k."""
    return f"{n:,}" if n < 10_000 else f"{n / 1000:.1f}k"


def summary_cards(summary: Summary) -> None:
    """One row of big numbers, labelled in the status colours."""
    for col, (label, key, color, tip) in zip(st.columns(len(CARDS)), CARDS, strict=True):
        with col.container(key=f"cm-card-{key}"):  # the key gives CSS a hook for the colour bar
            count = int(summary.get(key, 0))  # type: ignore[call-overload]  # keys of CARDS
            st.metric(f":{color}[●] {label}", big(count), help=tip, border=True)


def banners(snap: ClassroomSnapshot) -> None:
    """Red bar naming everyone asking for help; yellow bar for students stuck on errors."""
    queue = snap["help_queue"]
    if queue:
        names = named([display.name(h) for h in queue], HELP_NAMED, bold=True)
        ui.banner(f"🙋 Help needed ({len(queue):,}): {names}", "help")
    stuck = [s for s in snap["students"] if s["status"] == "significant_error"]
    if stuck:  # the list below has them all; the bar stays one glance
        names = named([display.name(s) for s in stuck], STUCK_NAMED)
        n = snap["significant_error_threshold"]
        ui.banner(f"⚠️ {len(stuck):,} stuck with {n}+ errors in a row: {names}", "stuck")
    if not queue and not stuck:
        ui.banner("✅ Nobody is waiting for help.", "calm")


def help_queue(snap: ClassroomSnapshot, me: str) -> None:
    """Each request with its wait, who is on the way, and claim / resolve buttons."""
    cid, queue = snap["classroom_id"], snap["help_queue"]
    st.subheader(f"Help queue · {len(queue)}")
    if not queue:
        st.caption("No open requests.")
        stats = snap.get("help_stats") or {}
        if stats.get("resolved"):
            st.caption(
                f"{stats['resolved']} resolved, mean wait {ui.duration(stats['mean_wait_s'])}."
            )
        return
    for h in queue[:QUEUE_SHOWN]:
        request(h, cid, me)
    if len(queue) > QUEUE_SHOWN:
        st.caption(f"… and {len(queue) - QUEUE_SHOWN} more waiting (oldest first above).")


def request(h: HelpEntry, cid: str, me: str) -> None:
    """One open request: who, how long, who is on the way, and the two buttons."""
    sid = h["student_id"]
    with st.container(border=True, key=f"cm-req-{sid}"):
        who, acts = st.columns([1, 1], vertical_alignment="center")
        who.markdown(
            f"**{display.md(display.name(h))}** · {display.md(display.team(h))}  \n"
            f"⏱ waiting **{ui.duration(h.get('waiting_s'))}**"
        )
        if h.get("claimed_by"):
            by = display.md(h["claimed_by"])
            who.markdown(f":green[🏃 claimed by **{by}** · {ui.ago(h.get('claimed_at'))}]")
        with acts.container(horizontal=True, horizontal_alignment="right"):
            args = (cid, sid, me)
            claimed = bool(h.get("claimed_by"))
            st.button(
                "On my way",
                key=f"claim-{sid}",
                icon="🏃",
                disabled=claimed,
                on_click=data.claim_help,
                args=args,
            )
            st.button(
                "Resolved",
                key=f"resolve-{sid}",
                icon="✅",
                type="primary",
                on_click=data.resolve_help,
                args=args,
            )


def seat_view(snap: ClassroomSnapshot, limit: int = 24) -> None:
    """Team cards with members coloured by status; busiest teams first in big classes."""
    st.subheader("Teams")
    teams = with_teamless(snap)
    if not teams:
        st.caption("No students yet.")
        return
    seat = data.seat_map(snap["classroom_id"])
    if seat is not None and seat.places:  # the room as it is, once teams are placed on it
        seat_map.room_view(seat, teams, {s["student_id"]: s for s in snap["students"]})
        return
    total = len(teams)
    if total > limit:  # a 200-team grid is noise: show the teams that need a visit
        weight = {"help": 100, "significant_error": 10, "error": 1}
        teams = sorted(
            teams, key=lambda t: -sum(weight.get(k, 0) * n for k, n in t["by_status"].items())
        )[:limit]
    students = {s["student_id"]: s for s in snap["students"]}
    st.markdown(ui.legend() + ui.team_cards(teams, students), unsafe_allow_html=True)
    if total > limit:
        st.caption(f"Showing the {limit} teams needing most attention of {total:,}.")


def with_teamless(snap: ClassroomSnapshot) -> list[TeamRow]:
    """The snapshot's teams, plus one "no team" card for students in none (a plain JupyterLab
    sends no team, and the actors group only named teams)."""
    teams = list(snap["teams"])
    grouped = {m for t in teams for m in t["members"]}
    loners = [s for s in snap["students"] if s["student_id"] not in grouped]
    if loners:
        teams.append(
            {
                "team": "",  # shown as "no team" (display.team)
                "members": [s["student_id"] for s in loners],
                "by_status": dict(Counter(s["status"] for s in loners)),
                "executions": sum(s["executions"] for s in loners),
                "errors": sum(s["errors"] for s in loners),
            }
        )
    return teams
