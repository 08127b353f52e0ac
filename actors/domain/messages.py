"""Instructors' messages, and what a student's JupyterLab is told in the ingest's answers.

Pure: no I/O, no clock. A student's server has no inbound port, so the answer to its own sends
is the only way back: each answer carries the student's inbox (hand state and recent messages),
and the student's server polls while a hand is up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from actors.domain.state import StudentState
from cellmon.views import Inbox, SentMessage

CLASS = "*"  # the student_id of a message to the whole class
# A message is news for this long: a student who opens JupyterLab an hour later is not shown
# "we restart at 10:15" from the morning.
FRESH = timedelta(minutes=30)
INBOX_MESSAGES = 5  # at most this many (the newest) in one answer


@dataclass(frozen=True, slots=True)
class Message:
    """One message as sent; `to` is a student id, or CLASS."""

    message_id: str
    to: str
    instructor: str
    text: str
    at: datetime

    def as_dict(self) -> SentMessage:
        """The wire and checkpoint form."""
        return {
            "id": self.message_id,
            "to": self.to,
            "from": self.instructor,
            "text": self.text,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Message:
        """The inverse of `as_dict`."""
        at = datetime.fromisoformat(row["at"])
        return cls(row["id"], row["to"], row["from"], row["text"], at)


class Mailbox:
    """The classroom's latest messages, bounded (the log keeps them all)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.messages: list[Message] = []

    def add(self, message: Message) -> None:
        """Keep a message; the oldest goes once the box is full."""
        self.messages.append(message)
        del self.messages[: max(0, len(self.messages) - self.capacity)]

    def recent(self, limit: int) -> list[Message]:
        """The newest `limit` messages, oldest first (for the instructor's "sent" list)."""
        return self.messages[-limit:] if limit > 0 else []

    def for_student(self, student_id: str, now: datetime, private: bool) -> list[Message]:
        """Fresh messages to the class, and to this student when `private` (their own token
        vouches for them), newest `INBOX_MESSAGES`, oldest first."""
        since, mine = now - FRESH, list[Message]()
        for m in reversed(self.messages):  # newest first: on the ingest's path, stop early
            if m.at < since or len(mine) == INBOX_MESSAGES:
                break
            if m.to == CLASS or (private and m.to == student_id):
                mine.append(m)
        return mine[::-1]


def inbox(
    student_id: str,
    student: StudentState | None,
    mailbox: Mailbox,
    now: datetime,
    private: bool,
    consent_required: bool = False,
) -> Inbox:
    """What the student's JupyterLab shows: is the hand up, who is on the way, messages.

    A classroom-wide token is shared by the whole class, so with one (`private` False) the
    answer leaves out messages to the student alone; the hand state only says who is coming."""
    since = student.help_since if student is not None else None
    return {
        "hand": {
            "up": since is not None,
            "raised_at": since.isoformat() if since is not None else None,
            "claimed_by": student.help_claimed_by if student is not None and since else None,
        },
        "messages": [m.as_dict() for m in mailbox.for_student(student_id, now, private)],
        # Whether to ask, and what the student answered, so their JupyterLab asks just once.
        "consent": {
            "required": consent_required,
            "research": student.research_consent if student is not None else None,
        },
    }
