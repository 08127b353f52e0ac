"""Turn state effects into the alert messages published on a classroom's channel."""

from __future__ import annotations

from typing import Any

from actors.domain.state import Effect, Escalated, HelpClaimed, HelpRaised, HelpWithdrawn


def alert_for(classroom_id: str, effect: Effect, name: str | None = None) -> dict[str, Any]:
    """The JSON message for one effect; `name` is the student's display name, if known."""
    base = {"classroom_id": classroom_id, "student_id": effect.student_id, "name": name}
    if isinstance(effect, HelpRaised):
        return {**base, "kind": "help_raised", "since": effect.since.isoformat()}
    if isinstance(effect, HelpClaimed):
        return {
            **base,
            "kind": "help_claimed",
            "by": effect.by,
            "waited_s": effect.waited.total_seconds(),
        }
    if isinstance(effect, HelpWithdrawn):
        kind = "help_withdrawn" if effect.by is None else "help_resolved"
        return {**base, "kind": kind, "by": effect.by, "waited_s": effect.waited.total_seconds()}
    if isinstance(effect, Escalated):
        return {
            **base,
            "kind": "significant_error",
            "consecutive_errors": effect.consecutive_errors,
        }
    raise TypeError(f"unknown effect {effect!r}")
