"""Look and feel: one stylesheet, status colours, banners, team cards and small formatters."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from cellmon.views import StudentRow, TeamRow
from streamlit_dashboard import display
from streamlit_dashboard.backend import STATUS_COLORS, STATUS_LABELS, STATUSES

CHIPS_PER_CARD = 40  # a "no team" card of a whole lecture would be thousands of chips

# A card's number scales with its card (26cqi: 26% of the card's width), up to 2.6rem: with
# seven cards on a 1,280-px laptop a 2.6rem "2,000" showed as "2,…".
CSS = """
<style>
[data-testid="stMetric"] { container-type: inline-size; }
[data-testid="stMetricValue"] { font-size: clamp(1.3rem, 26cqi, 2.6rem); font-weight: 700;
  line-height: 1.1; }
[data-testid="stMetricLabel"] p { font-size: 1.05rem; }
.cm-banner { border-radius: .6rem; padding: .9rem 1.2rem; margin: .2rem 0 .6rem 0;
  font-size: 1.35rem; font-weight: 600; }
.cm-help { background: #d93025; color: #fff; animation: cm-pulse 1.2s ease-in-out infinite; }
.cm-stuck { background: #fff4d6; color: #6b4500; border-left: .5rem solid #f28c18; }
.cm-calm { background: #e9f6ec; color: #1e6b30; font-size: 1.1rem; }
@keyframes cm-pulse { 50% { background: #a61b12; } }
@media (prefers-reduced-motion: reduce) { .cm-help { animation: none; } }
.cm-teams { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr));
  gap: .7rem; }
.cm-team { border: 1px solid #e3e5e8; border-radius: .6rem; padding: .6rem .7rem; }
.cm-team-h { font-weight: 700; font-size: 1.05rem; margin-bottom: .35rem; display: flex;
  justify-content: space-between; }
.cm-chip { display: inline-block; border-radius: 1rem; padding: .12rem .55rem; margin: .12rem;
  font-size: .9rem; color: #fff; white-space: nowrap; }
.cm-chip.error, .cm-chip.significant_error { color: #3a2a00; }
.cm-legend .cm-chip { font-size: .8rem; }
.st-key-cm-beep { display: none; }
a.cm-logout { display: block; text-align: center; padding: .45rem; border-radius: .5rem;
  border: 1px solid rgba(49, 51, 63, .2); color: inherit; text-decoration: none; }
a.cm-logout:hover { border-color: #d93025; color: #d93025; }
</style>
"""
# A coloured top edge per summary card, in the status palette.
CSS += (
    "<style>"
    + "".join(
        f'.st-key-cm-card-{k} [data-testid="stMetric"] {{ border-top: .4rem solid {c}; }}'
        for k, c in {**STATUS_COLORS, "students": "#4c78a8", "executions": "#4c78a8"}.items()
    )
    + "</style>"
)


def style() -> None:
    """Inject the stylesheet once per page run."""
    st.markdown(CSS, unsafe_allow_html=True)


def chip(label: str, status: str) -> str:
    """A member pill coloured by status; `label` is escaped here."""
    color = STATUS_COLORS.get(status, "#999")
    title = STATUS_LABELS.get(status, "")
    css = status if status in STATUS_COLORS else ""
    return (
        f'<span class="cm-chip {css}" style="background:{color}" title="{title}">'
        f"{display.md(label)}</span>"
    )


def legend() -> str:
    """The status colours, as chips."""
    chips = "".join(chip(label, s) for s, label in STATUS_LABELS.items())
    return f'<div class="cm-legend">{chips}</div>'


def banner(text: str, kind: str) -> None:
    """A full-width coloured bar: kind is help, stuck or calm."""
    st.markdown(f'<div class="cm-banner cm-{kind}">{text}</div>', unsafe_allow_html=True)


def _urgency(student: StudentRow) -> int:
    status = student.get("status")
    return STATUSES.index(status) if status in STATUSES else len(STATUSES)


def team_cards(teams: list[TeamRow], students: dict[str, StudentRow]) -> str:
    """HTML grid of team cards, members as status-coloured chips, the most urgent first."""
    cards = []
    for t in teams:
        members = sorted((students[m] for m in t["members"] if m in students), key=_urgency)
        chips = "".join(chip(display.name(m), m["status"]) for m in members[:CHIPS_PER_CARD])
        if len(members) > CHIPS_PER_CARD:
            chips += chip(f"+{len(members) - CHIPS_PER_CARD:,} more", "")
        flag = "🙋" * min(t["by_status"].get("help", 0), 10)
        cards.append(
            f'<div class="cm-team"><div class="cm-team-h">'
            f"<span>{display.md(display.team(t))}</span>"
            f"<span>{flag}</span></div>{chips}</div>"
        )
    return f'<div class="cm-teams">{"".join(cards)}</div>'


def moment(ts: str | None) -> datetime | None:
    """An ISO timestamp as an aware datetime; None when missing or unreadable."""
    try:
        t = datetime.fromisoformat(ts) if ts else None
    except (TypeError, ValueError):
        return None
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def ago(ts: str | None, now: datetime | None = None) -> str:
    """'3 min ago' style text for an ISO timestamp."""
    t = moment(ts)
    if t is None:
        return display.BLANK
    try:
        seconds = ((now or datetime.now(UTC)) - t).total_seconds()
    except OverflowError:  # a client clock near year 1 or 9999, offset past the range
        return display.BLANK
    return duration(seconds) + " ago"


def duration(seconds: float | None) -> str:
    """Compact human duration: 45 s, 3 min, 2 h 5 min."""
    if seconds is None or not math.isfinite(seconds):
        return display.BLANK
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


def clock(ts: str | None) -> str:
    """HH:MM:SS of an ISO timestamp, in the viewer's browser time zone when known."""
    t = moment(ts)
    if t is None:
        return display.BLANK
    try:
        t = t.astimezone(ZoneInfo(st.context.timezone or "UTC"))
    except (ZoneInfoNotFoundError, ValueError, OverflowError):
        pass  # the server's idea of the zone is the fallback
    return t.strftime("%H:%M:%S")


def keep_state(*keys: str) -> None:
    """Keep the state of widgets this run does not draw (a student open in place of the class):
    Streamlit forgets it otherwise, and the instructor comes back to the list they left."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


KEPT = "kept:"  # + a widget key: its last value, in a key Streamlit never drops


def restore(*keys: str) -> None:
    """Before drawing these widgets: give back a value Streamlit dropped while they were not
    drawn. `keep_state` covers full runs; a late tick of their fragment's timer, arriving after
    a student opened in place of the class, also drops them (its cleanup finds them undrawn)."""
    for key in keys:
        if key not in st.session_state and KEPT + key in st.session_state:
            st.session_state[key] = st.session_state[KEPT + key]


def remember(*keys: str) -> None:
    """After drawing these widgets: keep their values for `restore`."""
    for key in keys:
        if key in st.session_state:
            st.session_state[KEPT + key] = st.session_state[key]
