"""The one cached data module: the backend client, cached queries, and actions that bust caches."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st

from actors.adapters.seat_maps import SeatMap
from cellmon.views import ClassroomSnapshot, StudentDetail
from streamlit_dashboard import projection
from streamlit_dashboard.backend import Backend

SNAPSHOT_TTL_S = (
    1.0  # shared by every open dashboard: a class of tabs costs one actor call a second
)


@st.cache_resource(show_spinner=False)
def backend() -> Backend:
    """The process-wide backend: simulated classes when CELLMON_DASHBOARD_FAKE=1, else Ray."""
    if os.environ.get("CELLMON_DASHBOARD_FAKE") == "1":
        from streamlit_dashboard.backend_sim import SimulatedBackend

        hand = os.environ.get("CELLMON_DASHBOARD_FAKE_HAND_FILE")
        return SimulatedBackend(hand_file=Path(hand) if hand else None)
    # Imported lazily so the fake path (and the unit tier) never imports Ray.
    from streamlit_dashboard.backend_ray import RayBackend

    return RayBackend()


@st.cache_data(ttl=60, show_spinner=False)
def classrooms(email: str) -> list[dict[str, Any]]:
    """Classes this instructor may see."""
    return backend().classrooms(email)


PROJECTING = "projection"  # the sidebar toggle: this tab shows pseudonyms and no code


def projecting() -> bool:
    """Whether this tab is in projector mode."""
    return bool(st.session_state.get(PROJECTING))


def project() -> None:
    """Follow the sidebar's toggle. Kept under a key of our own: a widget's state is dropped on
    any run that does not draw it, and projection must hold until it is turned off."""
    st.session_state[PROJECTING] = bool(st.session_state.get("projection_toggle"))


def _pseudonym_key() -> bytes:
    return os.environ.get("CELLMON_PSEUDONYM_KEY", "").encode()


@st.cache_resource(show_spinner=False)
def _hands_seen() -> dict[str, int]:
    """Per class, the newest alert any tab of this server has seen (ids of the backend's alert
    feed, which lives as long as this). It is part of the live caches' keys: the first tab to
    see a raised hand reads the class afresh, and every other tab (ten instructors on one
    class) shares that read, where clearing the cache had each tab read it again."""
    return {}


def hands_seen_up_to(classroom_id: str, alert_id: int) -> None:
    """A tab saw raised hands up to `alert_id`: the next live read of the class comes after
    them, once for all tabs."""
    seen = _hands_seen()
    if alert_id > seen.get(classroom_id, 0):
        seen[classroom_id] = alert_id


def snapshot(classroom_id: str) -> ClassroomSnapshot:
    """The live snapshot of one class (pseudonymous in projector mode)."""
    snap = _snapshot(classroom_id, _hands_seen().get(classroom_id, 0))
    return projection.snapshot(snap, _pseudonym_key()) if projecting() else snap


@st.cache_data(ttl=SNAPSHOT_TTL_S, show_spinner=False, max_entries=1000)
def _snapshot(classroom_id: str, hands_seen: int) -> ClassroomSnapshot:
    return backend().snapshot(classroom_id)


def student(classroom_id: str, student_id: str) -> StudentDetail | None:
    """One student's detail (pseudonymous and without code in projector mode)."""
    detail = _student(classroom_id, student_id, _hands_seen().get(classroom_id, 0))
    if detail is None or not projecting():
        return detail
    return projection.student(detail, classroom_id, _pseudonym_key())


@st.cache_data(ttl=2, show_spinner=False, max_entries=1000)
def _student(classroom_id: str, student_id: str, hands_seen: int) -> StudentDetail | None:
    return backend().student(classroom_id, student_id)


@st.cache_data(ttl=10, show_spinner=False)
def activity(classroom_id: str, window: str) -> list[dict[str, Any]]:
    """Activity buckets for the chosen window."""
    return backend().activity(classroom_id, window)


def alerts(classroom_id: str, after: int) -> list[dict[str, Any]]:
    """New alerts since `after`; not cached, each session has its own cursor."""
    found = backend().alerts(classroom_id, after)
    return projection.alerts(found, classroom_id, _pseudonym_key()) if projecting() else found


def drop_live_cache() -> None:
    """The next render reads the actors: a click shows now, not after the TTL."""
    _snapshot.clear()
    _student.clear()


def claim_help(classroom_id: str, student_id: str, instructor: str) -> None:
    """Say "on my way" to a help request."""
    backend().claim_help(classroom_id, student_id, instructor)
    drop_live_cache()


def resolve_help(classroom_id: str, student_id: str, instructor: str) -> None:
    """Close a help request."""
    backend().resolve_help(classroom_id, student_id, instructor)
    drop_live_cache()


def resolve_errors(classroom_id: str, student_id: str, instructor: str) -> None:
    """Clear a student's "stuck" flag."""
    backend().resolve_errors(classroom_id, student_id, instructor)
    drop_live_cache()


def send_message(classroom_id: str, instructor: str, text: str, student_id: str | None) -> None:
    """Message one student, or the class (student_id None)."""
    backend().send_message(classroom_id, instructor, text, student_id)
    drop_live_cache()


@st.cache_data(ttl=10, show_spinner=False, max_entries=100)
def seat_map(classroom_id: str) -> SeatMap | None:
    """The room picture and places: they change only when an instructor edits them, so a
    2 s refresh need not read PostgreSQL each time (edits clear this cache)."""
    return backend().seat_map(classroom_id)


def save_seat_picture(classroom_id: str, picture: bytes) -> None:
    """Store the room picture."""
    backend().save_seat_picture(classroom_id, picture)
    seat_map.clear()


def place_team(classroom_id: str, team: str, x: float, y: float) -> None:
    """Store a team's place."""
    backend().place_team(classroom_id, team, x, y)
    seat_map.clear()


def remove_seat_map(classroom_id: str) -> None:
    """Back to the team cards."""
    backend().remove_seat_map(classroom_id)
    seat_map.clear()


def set_threshold(classroom_id: str, significant_errors: int) -> None:
    """Save the consecutive-error threshold."""
    backend().set_threshold(classroom_id, significant_errors)
    drop_live_cache()


def set_consent_policy(classroom_id: str, required: bool) -> None:
    """Ask the students for research consent, or stop asking."""
    backend().set_consent_policy(classroom_id, required)
    drop_live_cache()


def enroll(classroom_id: str, student_id: str, name: str | None, team: str | None) -> str:
    """Put a student on the roster; their own token (returned once, never cached)."""
    token = backend().enroll(classroom_id, student_id, name, team)
    drop_live_cache()
    return token


def rotate_student_token(classroom_id: str, student_id: str) -> str:
    """A new token for one student (returned once, never cached)."""
    return backend().rotate_student_token(classroom_id, student_id)


def remove_student(classroom_id: str, student_id: str) -> None:
    """Take a student off the roster and revoke their token."""
    backend().remove_student(classroom_id, student_id)
    drop_live_cache()


def forget_student(classroom_id: str, student_id: str, instructor: str) -> dict[str, Any]:
    """Delete everything stored about a student."""
    forgotten = backend().forget_student(classroom_id, student_id, instructor)
    drop_live_cache()
    return forgotten


def retention_days(classroom_id: str) -> int | None:
    """The classroom's retention in days (not cached: a setting)."""
    return backend().retention_days(classroom_id)


def set_retention(classroom_id: str, days: int | None) -> None:
    """Keep the classroom's events `days` days (None: for good)."""
    backend().set_retention(classroom_id, days)


def requires_student_tokens(classroom_id: str) -> bool:
    """Whether the classroom refuses its classroom-wide token (not cached: a setting)."""
    return backend().requires_student_tokens(classroom_id)


def require_student_tokens(classroom_id: str, required: bool) -> None:
    """Turn "students must use their own token" on or off."""
    backend().require_student_tokens(classroom_id, required)


def rotate_tokens(classroom_id: str) -> dict[str, str]:
    """Issue new classroom tokens (returned once, never cached)."""
    return backend().rotate_tokens(classroom_id)
