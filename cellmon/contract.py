"""Wire contract v1: the events a student's Jupyter sends. Importable without Ray."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

SCHEMA_VERSION: Literal[1] = 1

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Path = Annotated[str, StringConstraints(max_length=1024)]

EventType = Literal[
    "cell_executed",
    "notebook_opened",
    "notebook_saved",
    "notebook_closed",
    "help",
    "help_stop",
    "heartbeat",
    "consent",
]
# What a student's Jupyter may send; the instructor-made types below are never accepted from it.
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]

# Made by the server for an instructor's action or setting; they never create a student.
INSTRUCTOR_TYPES = frozenset(
    {
        "help_claimed",
        "help_resolved",
        "errors_resolved",
        "instructor_message",
        "classroom_configured",
        "roster_updated",
        "consent_policy",
    }
)

# A raised or lowered hand: never shed under load, never queued behind cell runs. Only in a
# small batch (a hand is one event, sent at once), so nobody rides a bulk upload past the queue
# by adding a hand to it; a hand in a large batch waits with the batch.
URGENT_TYPES = frozenset({"help", "help_stop"})
URGENT_BATCH_MAX = 20


def urgent_batch(kinds: list[Any]) -> bool:
    """Whether a batch of these event types goes ahead of cell runs (see URGENT_TYPES)."""
    return len(kinds) <= URGENT_BATCH_MAX and any(
        isinstance(kind, str) and kind in URGENT_TYPES for kind in kinds
    )


MESSAGE_CHARS = 500  # an instructor's message: a notification, not a letter

CellStatus = Literal["ok", "error", "aborted"]


class _Event(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: Id = Field(description="Client-made unique id (a UUID); re-sends are deduplicated")
    classroom_id: Id
    student_id: Id = Field(description="Set by the server from the authenticated user")
    time: AwareDatetime = Field(description="When it happened, on the client's clock")
    notebook_path: Path | None = None
    session_id: Id | None = None
    student_name: Annotated[str, StringConstraints(max_length=200)] | None = None
    team: Annotated[str, StringConstraints(max_length=100)] | None = None
    # Stamped by the ingest, never trusted from the client (see `cellmon.validation`).
    received_at: datetime | None = None
    text_cleaned: bool = Field(
        False, description="Set by the ingest when it removed NUL or lone surrogates from a text"
    )
    verified: bool = Field(
        False,
        description="Set by the ingest: the event came with the student's own token, so its "
        "student_id is theirs (a classroom-wide token cannot vouch for that)",
    )


class CellExecuted(_Event):
    """A code cell finished running in the kernel (or was aborted by an earlier error)."""

    type: Literal["cell_executed"] = "cell_executed"
    cell_id: Id | None = None
    cell_index: Annotated[int, Field(ge=0)] | None = None
    cell_type: Literal["code", "markdown", "raw"] = "code"
    code: str = ""
    code_truncated: bool = False
    execution_count: Annotated[int, Field(ge=0)] | None = None
    status: CellStatus
    error_name: Annotated[str, StringConstraints(max_length=200)] | None = None
    error_value: str | None = None
    duration_ms: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="Kernel run time in milliseconds"
    )


class NotebookOpened(_Event):
    type: Literal["notebook_opened"] = "notebook_opened"


class NotebookSaved(_Event):
    type: Literal["notebook_saved"] = "notebook_saved"


class NotebookClosed(_Event):
    type: Literal["notebook_closed"] = "notebook_closed"


class HelpRequested(_Event):
    type: Literal["help"] = "help"
    message: Annotated[str, StringConstraints(max_length=500)] | None = None


class HelpStopped(_Event):
    type: Literal["help_stop"] = "help_stop"


class Heartbeat(_Event):
    """Presence: the student's Jupyter is up, whether or not they are working."""

    type: Literal["heartbeat"] = "heartbeat"


class ConsentAnswered(_Event):
    """The student's answer to their classroom's consent question: whether their events may
    be used for research. A later answer replaces an earlier one (False withdraws it). The
    instructor's live view does not depend on it."""

    type: Literal["consent"] = "consent"
    research: StrictBool  # an explicit true or false: never "yes", 1 or "on" read as consent


class HelpClaimed(_Event):
    """An instructor is on their way (made by the server, never accepted from a student)."""

    type: Literal["help_claimed"] = "help_claimed"
    instructor: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class HelpResolved(_Event):
    """An instructor resolved the request (made by the server)."""

    type: Literal["help_resolved"] = "help_resolved"
    instructor: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ErrorsResolved(_Event):
    """An instructor dealt with a student's run of errors: the streak restarts from here (made
    by the server)."""

    type: Literal["errors_resolved"] = "errors_resolved"
    instructor: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class InstructorMessage(_Event):
    """A short message from an instructor to one student, or to the whole class when
    `student_id` is "*" (made by the server; it reaches the student's JupyterLab in the ingest's
    answers to their sends)."""

    type: Literal["instructor_message"] = "instructor_message"
    instructor: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MESSAGE_CHARS)
    ]


class ClassroomConfigured(_Event):
    """An instructor changed the classroom's rules (made by the server; student_id is "-")."""

    type: Literal["classroom_configured"] = "classroom_configured"
    significant_errors: Annotated[int, Field(ge=1, le=100)]


class ConsentPolicy(_Event):
    """An instructor made the classroom ask its students for research consent, or stop asking
    (made by the server; student_id is "-"). While it asks, research reads and exports hold
    only the students who agreed; a student who said no is left out either way."""

    type: Literal["consent_policy"] = "consent_policy"
    required: bool


class RosterUpdated(_Event):
    """An instructor enrolled a student (with the name and team the class sees) or took them
    off the roster (made by the server; the student's history stays)."""

    type: Literal["roster_updated"] = "roster_updated"
    enrolled: bool
    roster_name: Annotated[str, StringConstraints(max_length=200)] | None = None
    roster_team: Annotated[str, StringConstraints(max_length=100)] | None = None


Event = Annotated[
    CellExecuted
    | NotebookOpened
    | NotebookSaved
    | NotebookClosed
    | HelpRequested
    | HelpStopped
    | Heartbeat
    | ConsentAnswered
    | HelpClaimed
    | HelpResolved
    | ErrorsResolved
    | InstructorMessage
    | ClassroomConfigured
    | ConsentPolicy
    | RosterUpdated,
    Field(discriminator="type"),
]


def occurred_at(event: _Event) -> datetime:
    """The event's time for liveness: the client's clock, but never later than receipt."""
    if event.received_at is None:
        return event.time
    return min(event.time, event.received_at)
