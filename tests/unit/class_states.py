"""Classroom states made by the real pure code, for the dashboard's property tests.

Hypothesis draws contract events (hostile text everywhere, no names, no teams, no cell
indices, as a plain JupyterLab sends them); the actors' ClassroomActor applies them, and
ActorBackend serves its snapshots, details and alerts through the dashboard's Backend protocol.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from pydantic import TypeAdapter

from cellmon.contract import Event
from streamlit_dashboard.backend import Instructor
from streamlit_dashboard.backend_sim import SimulatedBackend, SimulatedRoom

CID = "c1"
NOW = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)
EMAIL, PASSWORD, NAME = "teacher@example.edu", "pw", "Dr. <b>Grace</b> *Teacher*"
PHISHING = "x\n\n[Session expired, sign in](https://evil.example)"
HOSTILE = (
    PHISHING,
    "**b** _i_ `c` ~~s~~",
    "<script>alert(1)</script>",
    ":red[red] :material/home: :smile:",
    "$x^2$",
    "# h\n- l\n> q",
    "www.evil.example",
    "\x00 \u202e \n\r\t",
    "\\",
)
# Raw fragments that must never reach a Markdown or HTML element unescaped.
FORBIDDEN = ("(https://evil", "<script", ":red[red]", "$x^2$", "**b**", "`c`", "www.evil")
KINDS = (
    "cell_executed",
    "cell_executed",
    "notebook_opened",
    "notebook_saved",
    "notebook_closed",
    "help",
    "help",
    "help_stop",
    "heartbeat",
    "help_claimed",
    "help_resolved",
    "classroom_configured",
)
_EVENT: TypeAdapter[Any] = TypeAdapter(Event)

texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))
ids = st.one_of(st.sampled_from(("s1", "ada", "x y", "<b>")), st.text(max_size=12))
ids = ids.map(str.strip).filter(bool)
indices = st.one_of(st.none(), st.integers(0, 15), st.integers(0, 2**70))
profiles = st.tuples(ids, st.none() | texts, st.none() | texts.map(lambda t: t[:100]))


@st.composite
def event(draw: st.DrawFn, students: list[tuple[Any, ...]]) -> Any:
    """One valid contract event of one of `students` (id, name, team)."""
    sid, name, team = draw(st.sampled_from(students))
    kind = draw(st.sampled_from(KINDS))
    at = NOW - timedelta(seconds=draw(st.integers(-600, 3 * 86_400)))
    data: dict[str, Any] = {
        "type": kind,
        "event_id": draw(st.uuids()).hex,
        "classroom_id": CID,
        "student_id": "-" if kind == "classroom_configured" else sid,
        "time": at,
        "received_at": min(at + timedelta(seconds=draw(st.integers(0, 60))), NOW),
        "notebook_path": draw(st.none() | texts),
        "student_name": name,
        "team": team,
    }
    data.update(draw(_fields(kind)))
    return _EVENT.validate_python(data)


def _fields(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    if kind == "cell_executed":
        return st.fixed_dictionaries(
            {
                "cell_id": st.none() | ids,
                "cell_index": indices,
                "status": st.sampled_from(("ok", "error", "error", "aborted")),
                "code": texts,
                "error_name": st.none() | texts,
                "error_value": st.none() | texts,
            }
        )
    if kind in ("help_claimed", "help_resolved"):
        return st.fixed_dictionaries({"instructor": texts.filter(bool)})
    if kind == "classroom_configured":
        return st.fixed_dictionaries({"significant_errors": st.integers(1, 100)})
    return st.just({})


@st.composite
def classes(draw: st.DrawFn) -> tuple[list[Any], list[Any]]:
    """Events of up to 8 students: those before a tab opens, and those after."""
    students = draw(st.lists(profiles, max_size=8, unique_by=lambda p: p[0]))
    if not students:
        return [], []
    before = draw(st.lists(event(students), max_size=30))
    after = draw(st.lists(event(students), max_size=10))
    return before, after


class ActorBackend(SimulatedBackend):
    """The dashboard's Backend protocol over one classroom of drawn events, served by the
    same actor-backed backend the browser tests use, held at NOW."""

    def __init__(self) -> None:
        super().__init__()
        self._room = SimulatedRoom(CID, NOW)

    def room(self, classroom_id: str) -> SimulatedRoom:
        """The one classroom, whatever id is asked for."""
        return self._room

    def apply(self, events: list[Any]) -> None:
        """Apply events as a shard does, publishing its alerts with the student's name."""
        self._room.apply(events)

    def login(self, email: str, password: str, client: str = "") -> Instructor | None:
        """The one instructor."""
        return Instructor(EMAIL, NAME) if (email, password) == (EMAIL, PASSWORD) else None

    def classrooms(self, email: str) -> list[dict[str, Any]]:
        """The one classroom, its name as hostile as a student's."""
        return [{"classroom_id": CID, "name": "Lab [1](https://evil.example) <i>x</i>"}]
