"""Turn state effects into the alert messages published on a classroom's channel."""

from __future__ import annotations

from actors.domain.state import Effect, Escalated, HelpClaimed, HelpRaised, HelpWithdrawn
from cellmon.views import Alert, AlertKind


def alert_for(classroom_id: str, effect: Effect, name: str | None = None) -> Alert:
    """The JSON message for one effect; `name` is the student's display name, if known."""
    cid, sid = classroom_id, effect.student_id
    if isinstance(effect, HelpRaised):
        since = effect.since.isoformat()
        return Alert(classroom_id=cid, student_id=sid, name=name, kind="help_raised", since=since)
    if isinstance(effect, HelpClaimed):
        waited = effect.waited.total_seconds()
        kind: AlertKind = "help_claimed"
        return Alert(
            classroom_id=cid, student_id=sid, name=name, kind=kind, by=effect.by, waited_s=waited
        )
    if isinstance(effect, HelpWithdrawn):
        waited = effect.waited.total_seconds()
        kind = "help_withdrawn" if effect.by is None else "help_resolved"
        return Alert(
            classroom_id=cid, student_id=sid, name=name, kind=kind, by=effect.by, waited_s=waited
        )
    if isinstance(effect, Escalated):
        streak = effect.consecutive_errors
        return Alert(
            classroom_id=cid,
            student_id=sid,
            name=name,
            kind="significant_error",
            consecutive_errors=streak,
        )
    raise TypeError(f"unknown effect {effect!r}")


def forgotten_alert(classroom_id: str, student_id: str) -> Alert:
    """Tells dashboards to drop the alerts of a student who was forgotten (it is not shown)."""
    return Alert(
        classroom_id=classroom_id, student_id=student_id, name=None, kind="student_forgotten"
    )
