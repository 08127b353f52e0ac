"""The dashboard's view of the cluster: one Protocol that the fake and the Ray backend implement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from actors.adapters.seat_maps import SeatMap
from cellmon.views import ACTIVITY_WINDOWS, STATUSES, ClassroomSnapshot, StudentDetail

__all__ = ["STATUSES", "WINDOWS", "Backend", "Instructor"]

# The colours are the dashboard's single palette, by status (most urgent first).
STATUS_COLORS: dict[str, str] = {
    "help": "#d93025",
    "significant_error": "#f28c18",
    "error": "#f7c948",
    "active": "#2e9e44",
    "idle": "#a0a4a8",
}
# The same palette in Streamlit's markdown colour names (metric labels, badges).
STATUS_MD: dict[str, str] = {
    "help": "red",
    "significant_error": "orange",
    "error": "yellow",
    "active": "green",
    "idle": "gray",
}
STATUS_LABELS: dict[str, str] = {
    "help": "Help",
    "significant_error": "Stuck (errors)",
    "error": "Error",
    "active": "Active",
    "idle": "Idle",
}
WINDOWS: tuple[str, ...] = tuple(ACTIVITY_WINDOWS)


@dataclass(frozen=True)
class Instructor:
    """A logged-in instructor."""

    email: str
    name: str


class Backend(Protocol):
    """Everything the dashboard reads from or asks of the cluster."""

    def login(self, email: str, password: str, client: str = "") -> Instructor | None:
        """The instructor, or None; SignInThrottled while too many attempts failed."""
        ...

    def open_session(self, email: str) -> str:
        """A sign-in that survives a reload: its token, for the browser's cookie."""
        ...

    def resume_session(self, token: str) -> Instructor | None:
        """The instructor of a live session, or None (expired, ended or unknown)."""
        ...

    def sso_session(self, email: str, issued_at: datetime) -> tuple[str, Instructor] | None:
        """A session for the instructor the school's identity provider vouched for, with its
        token; None for an identity issued before their last sign-out. NoInstructorAccount
        when nobody has that email here."""
        ...

    def end_session(self, token: str) -> None:
        """Sign out: the session stops working in every tab."""
        ...

    def classrooms(self, email: str) -> list[dict[str, Any]]: ...

    def snapshot(self, classroom_id: str, activity_minutes: int = 60) -> ClassroomSnapshot: ...

    def student(self, classroom_id: str, student_id: str) -> StudentDetail | None: ...

    def claim_help(self, classroom_id: str, student_id: str, instructor: str) -> None: ...

    def resolve_help(self, classroom_id: str, student_id: str, instructor: str) -> None: ...

    def resolve_errors(self, classroom_id: str, student_id: str, instructor: str) -> None:
        """Clear a student's "stuck" flag; their error streak restarts."""
        ...

    def send_message(
        self, classroom_id: str, instructor: str, text: str, student_id: str | None
    ) -> None:
        """A message to one student, or to the class (None): a notification in their JupyterLab."""
        ...

    def seat_map(self, classroom_id: str) -> SeatMap | None:
        """The room picture and the teams' places, or None (the overview shows team cards)."""
        ...

    def save_seat_picture(self, classroom_id: str, picture: bytes) -> None:
        """Store the room picture (already checked and re-encoded as JPEG)."""
        ...

    def place_team(self, classroom_id: str, team: str, x: float, y: float) -> None:
        """Put a team's marker at (x, y), fractions of the picture's width and height."""
        ...

    def remove_seat_map(self, classroom_id: str) -> None:
        """Forget the picture and the places."""
        ...

    def set_threshold(self, classroom_id: str, significant_errors: int) -> None: ...

    def set_consent_policy(self, classroom_id: str, required: bool) -> None:
        """Ask the students for research consent, or stop asking."""
        ...

    def rotate_tokens(self, classroom_id: str) -> dict[str, str]: ...

    def enroll(self, classroom_id: str, student_id: str, name: str | None, team: str | None) -> str:
        """Put a student on the roster; their own token, shown once."""
        ...

    def rotate_student_token(self, classroom_id: str, student_id: str) -> str:
        """A new token for an enrolled student; the old one stops working."""
        ...

    def remove_student(self, classroom_id: str, student_id: str) -> None:
        """Revoke the student's token and take them off the roster (their history stays)."""
        ...

    def forget_student(self, classroom_id: str, student_id: str, instructor: str) -> dict[str, Any]:
        """Delete everything stored about a student (log, checkpoint, InfluxDB, memory, roster,
        token); how many events went."""
        ...

    def retention_days(self, classroom_id: str) -> int | None:
        """How many days the classroom's events are kept; None: for good."""
        ...

    def set_retention(self, classroom_id: str, days: int | None) -> None:
        """Keep the classroom's events `days` days (None: for good)."""
        ...

    def requires_student_tokens(self, classroom_id: str) -> bool:
        """Whether the classroom refuses its classroom-wide token."""
        ...

    def require_student_tokens(self, classroom_id: str, required: bool) -> None:
        """Turn "students must use their own token" on or off."""
        ...

    def alerts(self, classroom_id: str, after: int) -> list[dict[str, Any]]: ...

    def activity(self, classroom_id: str, window: str) -> list[dict[str, Any]]: ...
