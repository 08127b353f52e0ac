"""The Backend protocol over simulated classes, with no cluster: the real pure ClassroomActor,
fed by the class simulator (`cellmon.simulation`), for AppTest, the browser tests and working
on the dashboard. Every snapshot, detail and alert is the one the actors would make.

A class is simulated up to the moment it is first opened and then held still, so two
backends made alike show the same class; an instructor's actions and a scripted hand (once
`hand_file` exists: a browser test creates it when it is ready to hear the beep) are applied on
top, as the shard applies them.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from actors.adapters.accounts import SESSION_PREFIX, NoInstructorAccount
from actors.adapters.seat_maps import SeatMap, fraction
from actors.domain.alerts import alert_for
from actors.domain.classroom import ClassroomActor
from actors.domain.messages import CLASS
from cellmon.contract import Event
from cellmon.simulation import plan_class
from cellmon.views import ACTIVITY_WINDOWS, ClassroomSnapshot, StudentDetail
from streamlit_dashboard.backend import Instructor
from streamlit_dashboard.buckets import bucketed

PASSWORD = "cellmon"
SESSION_LASTS = timedelta(hours=12)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INSTRUCTORS = {"teacher@example.edu": "Dr. Grace Teacher", "ta@example.edu": "Sam Assistant"}
CLASSROOMS = {  # classroom_id -> (name, size, who may see it, the simulator's seed)
    # ds101's seed gives a class with several hands up and students stuck on errors.
    "ds101": ("Data Science 101", 30, {"teacher@example.edu", "ta@example.edu"}, 105),
    "lecture": ("Programming Lecture (1,000)", 1000, {"teacher@example.edu"}, 102),
    "other": ("Someone else's class", 12, {"nobody@example.edu"}, 103),
}
HISTORY = timedelta(minutes=20)
BIG_CLASS_HISTORY = timedelta(minutes=6)  # a 1,000-student class is ready in a few seconds
_EVENT: TypeAdapter[Any] = TypeAdapter(Event)


class SimulatedRoom:
    """One classroom held at `now`: its actor, and the alerts its events made."""

    def __init__(self, classroom_id: str, now: datetime) -> None:
        self.actor, self.now = ClassroomActor(classroom_id), now
        self.alerts: list[dict[str, Any]] = []
        self.log: list[Any] = []  # what was applied, to rebuild from when a student is forgotten

    @classmethod
    def simulated(cls, classroom_id: str, size: int, seed: int, now: datetime) -> SimulatedRoom:
        """A class of `size` simulated students who have worked until `now`."""
        room = cls(classroom_id, now)
        students = plan_class(classroom_id, size, random.Random(seed))
        start = now - (HISTORY if size <= 100 else BIG_CLASS_HISTORY)
        wire: list[dict[str, Any]] = []
        for student in students:
            wire += student.start(start)
            while (due := student.next_due()) is not None and due <= now:
                wire += student.step(due)
        wire.sort(key=lambda event: event["time"])
        room.apply([_event(classroom_id, e) for e in wire])
        return room

    def apply(self, events: list[Any]) -> None:
        """Apply events as the shard does, keeping their alerts."""
        self.log += events
        outcome = self.actor.apply_batch(events)
        for effect in outcome.effects:
            student = self.actor.students.get(effect.student_id)
            name = student.state.display_name if student else None
            alert = alert_for(self.actor.classroom_id, effect, name)
            self.alerts.append({**alert, "id": len(self.alerts) + 1})

    def instruct(self, fields: dict[str, Any]) -> None:
        """An instructor's action (or a scripted student's), stamped now."""
        self.apply(
            [
                _event(
                    self.actor.classroom_id,
                    {"event_id": str(uuid.uuid4()), "time": self.now, **fields},
                )
            ]
        )

    def forget(self, student_id: str) -> int:
        """Rebuild the class from its log without the student, as the shard does."""
        kept = [e for e in self.log if e.student_id != student_id]
        removed = len(self.log) - len(kept)
        self.actor, self.log = ClassroomActor(self.actor.classroom_id), kept
        self.actor.apply_batch(kept)  # the alerts these made were kept when they were new
        self.alerts = [a for a in self.alerts if a["student_id"] != student_id]
        return removed


class SimulatedBackend:
    """Simulated classes, built on first use; records every call that changes state."""

    def __init__(self, sizes: dict[str, int] | None = None, hand_file: Path | None = None):
        self.t0 = datetime.now(UTC)
        self.sizes = {cid: (sizes or {}).get(cid, room[1]) for cid, room in CLASSROOMS.items()}
        self.calls: list[tuple[str, ...]] = []
        self._rooms: dict[str, SimulatedRoom] = {}
        self._own_tokens_only: set[str] = set()
        self._retention: dict[str, int | None] = {}
        self._hand_file = hand_file
        self._sessions: dict[str, tuple[Instructor, datetime]] = {}  # token -> who, until
        self._sso_not_before: dict[str, datetime] = {}  # email -> their last sign-out
        self._seat_maps: dict[str, SeatMap] = {}

    def room(self, classroom_id: str) -> SimulatedRoom:
        """The classroom, simulated on first use."""
        if classroom_id not in self._rooms:
            seed, size = CLASSROOMS[classroom_id][3], self.sizes[classroom_id]
            self._rooms[classroom_id] = SimulatedRoom.simulated(classroom_id, size, seed, self.t0)
        return self._rooms[classroom_id]

    def login(self, email: str, password: str, client: str = "") -> Instructor | None:
        """Any known instructor with the shared demo password."""
        name = INSTRUCTORS.get(email.strip().lower())
        return Instructor(email.strip().lower(), name) if name and password == PASSWORD else None

    def open_session(self, email: str) -> str:
        """A session in this process (the dashboard server outlives its pages)."""
        name = INSTRUCTORS.get(email.strip().lower(), email)
        token = SESSION_PREFIX + uuid.uuid4().hex
        until = datetime.now(UTC) + SESSION_LASTS
        self._sessions[token] = (Instructor(email.strip().lower(), name), until)
        return token

    def resume_session(self, token: str) -> Instructor | None:
        """The session's instructor until it expires or ends."""
        who, until = self._sessions.get(token, (None, None))
        return who if until is not None and until > datetime.now(UTC) else None

    def sso_session(self, email: str, issued_at: datetime) -> tuple[str, Instructor] | None:
        """A session for a known instructor whose identity is newer than their last sign-out."""
        email = email.strip().lower()
        if email not in INSTRUCTORS:
            raise NoInstructorAccount(email)
        if issued_at < self._sso_not_before.get(email, _EPOCH):
            return None
        token = self.open_session(email)
        return token, self._sessions[token][0]

    def end_session(self, token: str) -> None:
        """Forget the session; older single sign-on identities of its instructor are void."""
        self.calls.append(("end_session",))
        who, _ = self._sessions.pop(token, (None, None))
        if who is not None:
            self._sso_not_before[who.email] = datetime.now(UTC).replace(microsecond=0)

    def classrooms(self, email: str) -> list[dict[str, Any]]:
        """The classes this instructor may see."""
        return [
            {"classroom_id": cid, "name": name}
            for cid, (name, _, who, _) in CLASSROOMS.items()
            if email in who
        ]

    def snapshot(self, classroom_id: str, activity_minutes: int = 60) -> ClassroomSnapshot:
        """The class as the actors show it."""
        self._tick()
        room = self.room(classroom_id)
        return room.actor.snapshot(room.now, activity_minutes)

    def student(self, classroom_id: str, student_id: str) -> StudentDetail | None:
        """One student's detail, as the actors show it."""
        room = self.room(classroom_id)
        return room.actor.student(student_id, room.now)

    def claim_help(self, classroom_id: str, student_id: str, instructor: str) -> None:
        """ "On my way", as the shard logs it."""
        self.calls.append(("claim_help", classroom_id, student_id, instructor))
        fields = {"type": "help_claimed", "student_id": student_id, "instructor": instructor}
        self.room(classroom_id).instruct(fields)

    def resolve_help(self, classroom_id: str, student_id: str, instructor: str) -> None:
        """Close a help request, as the shard logs it."""
        self.calls.append(("resolve_help", classroom_id, student_id, instructor))
        fields = {"type": "help_resolved", "student_id": student_id, "instructor": instructor}
        self.room(classroom_id).instruct(fields)

    def resolve_errors(self, classroom_id: str, student_id: str, instructor: str) -> None:
        """Clear a student's "stuck" flag, as the shard logs it."""
        self.calls.append(("resolve_errors", classroom_id, student_id, instructor))
        fields = {"type": "errors_resolved", "student_id": student_id, "instructor": instructor}
        self.room(classroom_id).instruct(fields)

    def send_message(
        self, classroom_id: str, instructor: str, text: str, student_id: str | None
    ) -> None:
        """A message, as the shard logs it."""
        to = student_id or CLASS
        self.calls.append(("send_message", classroom_id, to, instructor, text))
        fields = {"type": "instructor_message", "student_id": to}
        self.room(classroom_id).instruct({**fields, "instructor": instructor, "text": text})

    def seat_map(self, classroom_id: str) -> SeatMap | None:
        """This process's seat map of the class."""
        return self._seat_maps.get(classroom_id)

    def save_seat_picture(self, classroom_id: str, picture: bytes) -> None:
        """Keep the picture; teams keep their places."""
        self.calls.append(("save_seat_picture", classroom_id))
        places = self._seat_maps[classroom_id].places if classroom_id in self._seat_maps else {}
        self._seat_maps[classroom_id] = SeatMap(picture, "image/jpeg", places)

    def place_team(self, classroom_id: str, team: str, x: float, y: float) -> None:
        """Keep a team's place."""
        self.calls.append(("place_team", classroom_id, team))
        old = self._seat_maps[classroom_id]
        places = {**old.places, team: (fraction(x), fraction(y))}
        self._seat_maps[classroom_id] = SeatMap(old.picture, old.mime, places)

    def remove_seat_map(self, classroom_id: str) -> None:
        """Forget the picture and the places."""
        self.calls.append(("remove_seat_map", classroom_id))
        self._seat_maps.pop(classroom_id, None)

    def set_threshold(self, classroom_id: str, significant_errors: int) -> None:
        """Change the consecutive-error threshold."""
        self.calls.append(("set_threshold", classroom_id, str(significant_errors)))
        fields = {"type": "classroom_configured", "student_id": "-"}
        self.room(classroom_id).instruct({**fields, "significant_errors": significant_errors})

    def set_consent_policy(self, classroom_id: str, required: bool) -> None:
        """Ask for research consent, or stop asking."""
        self.calls.append(("set_consent_policy", classroom_id, str(required)))
        fields = {"type": "consent_policy", "student_id": "-", "required": required}
        self.room(classroom_id).instruct(fields)

    def rotate_tokens(self, classroom_id: str) -> dict[str, str]:
        """New tokens, derived from a counter so runs are reproducible."""
        self.calls.append(("rotate_tokens", classroom_id))
        seed = f"{classroom_id}:{len(self.calls)}".encode()
        return {
            "ingest_token": "cmi_" + hashlib.sha256(seed + b"i").hexdigest()[:32],
            "instructor_token": "cmr_" + hashlib.sha256(seed + b"t").hexdigest()[:32],
        }

    def enroll(self, classroom_id: str, student_id: str, name: str | None, team: str | None) -> str:
        """Put a student on the roster, as the shard logs it; a made-up token."""
        self.calls.append(("enroll", classroom_id, student_id))
        roster = {"enrolled": True, "roster_name": name, "roster_team": team}
        self.room(classroom_id).instruct(
            {"type": "roster_updated", "student_id": student_id, **roster}
        )
        return self._token("cms_", classroom_id, student_id)

    def rotate_student_token(self, classroom_id: str, student_id: str) -> str:
        """A made-up new token."""
        self.calls.append(("rotate_student_token", classroom_id, student_id))
        return self._token("cms_", classroom_id, student_id)

    def remove_student(self, classroom_id: str, student_id: str) -> None:
        """Take the student off the roster, as the shard logs it."""
        self.calls.append(("remove_student", classroom_id, student_id))
        fields = {"type": "roster_updated", "student_id": student_id, "enrolled": False}
        self.room(classroom_id).instruct(fields)

    def forget_student(self, classroom_id: str, student_id: str, instructor: str) -> dict[str, Any]:
        """Forget the student in the simulated class (nothing here is stored elsewhere)."""
        self.calls.append(("forget_student", classroom_id, student_id))
        events = self.room(classroom_id).forget(student_id)
        return {"events": events, "points": 0, "students": 0, "token_revoked": False}

    def retention_days(self, classroom_id: str) -> int | None:
        """The classroom's retention (kept for this session only)."""
        return self._retention.get(classroom_id)

    def set_retention(self, classroom_id: str, days: int | None) -> None:
        """Set the classroom's retention."""
        self.calls.append(("set_retention", classroom_id, str(days)))
        self._retention[classroom_id] = days

    def requires_student_tokens(self, classroom_id: str) -> bool:
        """The classroom's token rule."""
        return classroom_id in self._own_tokens_only

    def require_student_tokens(self, classroom_id: str, required: bool) -> None:
        """Set the classroom's token rule."""
        self.calls.append(("require_student_tokens", classroom_id, str(required)))
        (self._own_tokens_only.add if required else self._own_tokens_only.discard)(classroom_id)

    def _token(self, prefix: str, *parts: str) -> str:
        seed = ":".join((*parts, str(len(self.calls)))).encode()
        return prefix + hashlib.sha256(seed).hexdigest()[:32]

    def alerts(self, classroom_id: str, after: int) -> list[dict[str, Any]]:
        """The class's alerts with id > after, oldest first."""
        self._tick()
        return [a for a in self.room(classroom_id).alerts if a["id"] > after]

    def activity(self, classroom_id: str, window: str) -> list[dict[str, Any]]:
        """Executions, errors and help per bucket, from the actor's minute series."""
        minutes, bucket = ACTIVITY_WINDOWS[window]
        room = self.room(classroom_id)
        rows = room.actor.snapshot(room.now, minutes)["activity"]
        return bucketed(rows, bucket, room.now, minutes)

    def raise_help(self, classroom_id: str, student_id: str) -> None:
        """A student raises a hand (how a demo or a test makes a new alert)."""
        self.room(classroom_id).instruct({"type": "help", "student_id": student_id})

    def _tick(self) -> None:
        if self._hand_file is None or not self._hand_file.exists():
            return
        self._hand_file = None  # once
        rows = self.snapshot("ds101")["students"]
        self.raise_help("ds101", next(r["student_id"] for r in rows if r["status"] != "help"))


def _event(classroom_id: str, wire: dict[str, Any]) -> Any:
    """A simulated wire event as the ingest validates it, received when it happened."""
    return _EVENT.validate_python(
        {**wire, "classroom_id": classroom_id, "received_at": wire["time"]}
    )
