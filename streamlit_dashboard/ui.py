"""Look and feel: one stylesheet, status colours, banners, team cards and small formatters."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from streamlit_dashboard.backend import STATUS_COLORS, STATUS_LABELS

CSS = """
<style>
[data-testid="stMetricValue"] { font-size: 2.6rem; font-weight: 700; line-height: 1.1; }
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


def chip(name: str, status: str) -> str:
    """A member pill coloured by status."""
    color = STATUS_COLORS.get(status, "#999")
    title = STATUS_LABELS.get(status, status)
    return (
        f'<span class="cm-chip {status}" style="background:{color}" title="{title}">'
        f"{html.escape(name)}</span>"
    )


def legend() -> str:
    """The status colours, as chips."""
    chips = "".join(chip(label, s) for s, label in STATUS_LABELS.items())
    return f'<div class="cm-legend">{chips}</div>'


def banner(text: str, kind: str) -> None:
    """A full-width coloured bar: kind is help, stuck or calm."""
    st.markdown(f'<div class="cm-banner cm-{kind}">{text}</div>', unsafe_allow_html=True)


def team_cards(teams: list[dict[str, Any]], students: dict[str, dict[str, Any]]) -> str:
    """HTML grid of team cards, members as status-coloured chips."""
    cards = []
    for t in teams:
        members = [students[m] for m in t["members"] if m in students]
        chips = "".join(chip(m["name"], m["status"]) for m in members)
        flag = "🙋" * t["by_status"].get("help", 0)
        cards.append(
            f'<div class="cm-team"><div class="cm-team-h"><span>{html.escape(t["team"])}</span>'
            f"<span>{flag}</span></div>{chips}</div>"
        )
    return f'<div class="cm-teams">{"".join(cards)}</div>'


def ago(ts: str | None, now: datetime | None = None) -> str:
    """'3 min ago' style text for an ISO timestamp."""
    if not ts:
        return "—"
    seconds = ((now or datetime.now(UTC)) - datetime.fromisoformat(ts)).total_seconds()
    return duration(seconds) + " ago"


def duration(seconds: float | None) -> str:
    """Compact human duration: 45 s, 3 min, 2 h 5 min."""
    if seconds is None:
        return "—"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


def clock(ts: str | None) -> str:
    """HH:MM:SS of an ISO timestamp, in the viewer's browser time zone when known."""
    if not ts:
        return "—"
    t = datetime.fromisoformat(ts)
    try:
        t = t.astimezone(ZoneInfo(st.context.timezone or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        pass  # the server's idea of the zone is the fallback
    return t.strftime("%H:%M:%S")
