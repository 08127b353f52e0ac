"""Turn state effects into the alert messages published on a classroom's channel."""

from __future__ import annotations

from typing import Any

from actors.state import Effect, Escalated, HelpRaised, HelpWithdrawn


def alert_for(classroom_id: str, effect: Effect) -> dict[str, Any]:
    """The JSON message for one effect."""
    base = {"classroom_id": classroom_id, "student_id": effect.student_id}
    if isinstance(effect, HelpRaised):
        return {**base, "kind": "help_raised", "since": effect.since.isoformat()}
    if isinstance(effect, HelpWithdrawn):
        return {**base, "kind": "help_withdrawn", "waited_s": effect.waited.total_seconds()}
    if isinstance(effect, Escalated):
        return {
            **base,
            "kind": "significant_error",
            "consecutive_errors": effect.consecutive_errors,
        }
    raise TypeError(f"unknown effect {effect!r}")
