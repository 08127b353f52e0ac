"""The shapes that leave the actors: the classroom snapshot, a student's detail and the help
alerts, typed once and shared by the actors that make them, the read API that serves them,
the dashboard that draws them and the research side. Times are ISO-8601 text, as on the wire.

Student-controlled text (names, teams, notebook paths, errors) may be None or anything at all:
whoever renders it escapes it.
"""

from __future__ import annotations

from typing import Literal, NotRequired

# pydantic (the read API's OpenAPI schema) needs typing_extensions' TypedDict before Python 3.12.
from typing_extensions import TypedDict

Status = Literal["help", "significant_error", "error", "active", "idle"]
# Priority order, most urgent first.
STATUSES: tuple[Status, ...] = ("help", "significant_error", "error", "active", "idle")

# The dashboard's activity windows: name -> (minutes shown, minutes per bucket), the existing
# dashboard's 5 min / 1 h / 4 h buckets.
ACTIVITY_WINDOWS: dict[str, tuple[int, int]] = {
    "1h": (60, 5),
    "24h": (24 * 60, 60),
    "7d": (7 * 24 * 60, 240),
}

AlertKind = Literal[
    "help_raised",
    "help_claimed",
    "help_withdrawn",
    "help_resolved",
    "significant_error",
    "student_forgotten",  # dashboards drop the student's alerts they hold; never shown itself
]
ALERT_CHANNEL_PATTERN = "cellmon:*:alerts"


def alert_channel(classroom_id: str) -> str:
    """The Redis pub/sub channel of a classroom's alerts."""
    return f"cellmon:{classroom_id}:alerts"


class StudentRow(TypedDict):
    """One student's line in the class overview. Name and team are the roster's when the
    instructor set them, else what the student's Jupyter suggested."""

    student_id: str
    name: str | None
    team: str | None
    enrolled: bool  # on the instructor's roster
    verified: bool | None  # newest event came with the student's own token (None: no event)
    status: Status
    executions: int
    errors: int
    consecutive_errors: int
    last_activity_at: str | None
    last_seen_at: str | None
    help_since: str | None
    help_claimed_by: str | None
    current_notebook: str | None
    current_cell_index: int | None
    cells_completed: int
    research_consent: bool | None  # their answer to the consent question (None: none yet)


class HelpEntry(TypedDict):
    """An open help request, in the order hands reached the server."""

    student_id: str
    name: str | None
    team: str | None
    since: str | None
    waiting_s: float
    claimed_by: str | None
    claimed_at: str | None


class HelpStats(TypedDict):
    """Ended requests: how many an instructor resolved, mean wait and handling times."""

    resolved: int
    ended: int
    mean_wait_s: float | None
    mean_handling_s: float | None


class Summary(TypedDict):
    """The overview's cards: students by status, executions and errors."""

    students: int
    help: int
    significant_error: int
    error: int
    active: int
    idle: int
    executions: int
    errors: int


class TeamRow(TypedDict):
    """A team: its members (student ids) and how many are in each status."""

    team: str
    members: list[str]
    by_status: dict[str, int]
    executions: int
    errors: int


class CellRow(TypedDict):
    """How the class is doing on one cell."""

    notebook_path: str | None
    cell_id: str
    cell_index: int | None
    attempts: int
    errors: int
    students_tried: int
    students_succeeded: int
    students_failing: int


class ErrorGroup(TypedDict):
    """Students whose latest run of one cell failed with the same error."""

    error_name: str | None
    message: str  # normalised: numbers and addresses made alike, one line
    students: list[str]  # ids
    code: str | None  # the code most of them ran, when their Jupyter sent it


class CellErrors(TypedDict):
    """One cell the class is stuck on now: its students grouped by error, largest first."""

    notebook_path: str | None
    cell_id: str
    cell_index: int | None
    failing: int
    groups: list[ErrorGroup]


class ActivityMinute(TypedDict):
    """Executions, errors and new help requests in one minute."""

    minute: str
    executions: int
    errors: int
    help: int


# One instructor message; "to" is a student id, or "*" for the whole class.
SentMessage = TypedDict("SentMessage", {"id": str, "to": str, "from": str, "text": str, "at": str})


class HandState(TypedDict):
    """The student's request as the class sees it: up or not, and who is on the way."""

    up: bool
    raised_at: str | None
    claimed_by: str | None


class ConsentState(TypedDict):
    required: bool  # the classroom asks its students for research consent
    research: bool | None  # the student's answer (None: not given)


class Inbox(TypedDict):
    """What the ingest's answer to a student's own send tells their JupyterLab."""

    hand: HandState
    messages: list[SentMessage]  # fresh ones, oldest first
    consent: ConsentState


class ClassroomSnapshot(TypedDict):
    """Everything an instructor's screen needs, in one call whatever the class size."""

    classroom_id: str
    generated_at: str
    significant_error_threshold: int
    consent_required: bool  # research reads hold only the students who agreed
    summary: Summary
    help_queue: list[HelpEntry]
    help_stats: HelpStats
    students: list[StudentRow]
    teams: list[TeamRow]
    cells: list[CellRow]
    error_groups: list[CellErrors]  # the cells most students fail now, most first
    activity: list[ActivityMinute]
    events_applied: int
    messages: list[SentMessage]  # the instructors' latest, oldest first


class CellHistory(TypedDict):
    """One student's history with one cell."""

    notebook_path: str | None
    cell_id: str
    cell_index: int | None
    attempts: int
    errors: int
    last_status: str | None
    first_success_at: str | None
    last_run_at: str | None


class HelpRecord(TypedDict):
    """One ended help request of a student."""

    raised_at: str | None
    claimed_at: str | None
    claimed_by: str | None
    resolved_at: str | None
    resolved_by: str
    wait_s: float


class RunRecord(TypedDict):
    """One cell run on the student's timeline."""

    time: str | None
    cell_index: int | None
    status: str
    error_name: str | None


class StudentDetail(StudentRow):
    """Everything about one student, for the student view."""

    errors_resolved_by: str | None  # the instructor who last cleared their error streak
    errors_resolved_at: str | None

    last_error_at: str | None
    current_cell_id: str | None
    last_code: str | None
    last_error: str | None
    cells: list[CellHistory]
    help_history: list[HelpRecord]
    timeline: list[RunRecord]


class Alert(TypedDict):
    """A message on a classroom's alert channel; the kind says which optional fields it has."""

    classroom_id: str
    student_id: str
    name: str | None
    kind: AlertKind
    since: NotRequired[str]
    by: NotRequired[str | None]
    waited_s: NotRequired[float]
    consecutive_errors: NotRequired[int]
