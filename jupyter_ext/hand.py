"""The student's hand and what the instructor answered: pure, no I/O.

The student's server has no inbound port, so the instructor's side reaches it only in the
ingest's answers to its sends. Each answer tells the hand state after the batch it answers, so a
hand change still on its way (not yet in an answered batch) wins over what the server said.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from jupyter_ext.answers import Inbox, Note

KEPT_NOTES = 20  # messages remembered for the frontend (it shows each id once)


@dataclass(frozen=True)
class Hand:
    """Up or down, who is on the way, the change not yet answered, recent messages."""

    up: bool = False
    claimed_by: str | None = None
    unanswered: str | None = None  # the event id of the latest raise/lower, until answered
    notes: tuple[Note, ...] = field(default=())

    def changed(self, up: bool, event_id: str) -> Hand:
        """The student raised or lowered it; a new request has nobody on the way yet."""
        return replace(self, up=up, claimed_by=None, unanswered=event_id)

    def answered(self, inbox: Inbox, sent_ids: list[str]) -> Hand:
        """The server's word after the batch `sent_ids`."""
        unanswered = None if self.unanswered in sent_ids else self.unanswered
        known = {n.message_id for n in self.notes}
        notes = (*self.notes, *(n for n in inbox.notes if n.message_id not in known))
        hand = replace(self, unanswered=unanswered, notes=notes[-KEPT_NOTES:])
        if unanswered is not None:  # our own change is still on its way: keep it
            return hand
        claimed_by = inbox.claimed_by if inbox.hand_up else None
        return replace(hand, up=inbox.hand_up, claimed_by=claimed_by)

    def dump(self) -> dict[str, Any]:
        """What survives a restart of Jupyter (the messages come again from the server)."""
        return {"up": self.up, "claimed_by": self.claimed_by, "unanswered": self.unanswered}

    @classmethod
    def load(cls, saved: Any) -> Hand:
        """The saved hand, or a lowered one for anything unexpected."""
        if not isinstance(saved, dict) or type(saved.get("up")) is not bool:
            return cls()
        claimed, unanswered = saved.get("claimed_by"), saved.get("unanswered")
        return cls(
            saved["up"],
            claimed if isinstance(claimed, str) else None,
            unanswered if isinstance(unanswered, str) else None,
        )


def presence_due(
    *,
    idle_s: float,
    lab_seen_s: float | None,
    hand_up: bool,
    heartbeat_s: float,
    poll_s: float,
) -> bool:
    """Whether to send a heartbeat now: only while a JupyterLab is open (its status poll was
    seen recently), and only when nothing else went out for a while: every `heartbeat_s` for
    presence, every `poll_s` while the hand is up so the instructor's answer comes back fast.
    `idle_s`: seconds since the last event was spooled."""
    if lab_seen_s is None or lab_seen_s > LAB_OPEN_S:
        return False
    return idle_s >= (poll_s if hand_up else heartbeat_s)


LAB_OPEN_S = 20.0  # the frontend polls the status every 5 s (1 s while the hand is up)
