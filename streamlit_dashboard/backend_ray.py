"""The real backend: the cluster's actors (as a Ray driver), PostgreSQL accounts, Redis alerts
and InfluxDB charts. One snapshot call per classroom per refresh, whatever the class size."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from actors.adapters import accounts, seat_maps
from actors.adapters.seat_maps import SeatMap
from actors.runtime.attach import attach
from actors.runtime.client import ActorClient, blocking
from cellmon.settings import Settings
from cellmon.views import ACTIVITY_WINDOWS, ClassroomSnapshot, StudentDetail
from streamlit_dashboard.alert_feed import AlertFeed
from streamlit_dashboard.backend import Instructor
from streamlit_dashboard.buckets import bucketed

_CALL_TIMEOUT_S = 10
_FORGET_TIMEOUT_S = 300  # the classroom is rebuilt from its whole log


class RayBackend:
    """Attaches to the cluster at CELLMON_RAY_ADDRESS and reads accounts at CELLMON_STORE_URL,
    both set by whoever starts the dashboard (`cellmon demo` passes the ones it runs)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._store = self.settings.store_url
        attach(self.settings.ray_address, self.settings.namespace)
        self._actors = ActorClient(self.settings.namespace)
        self._feed = AlertFeed(self.settings.alerts_url)

    def login(self, email: str, password: str, client: str = "") -> Instructor | None:
        """Check the password against the argon2 hash (throttled per account and client)."""
        found = accounts.verify(self._store, email, password, client)
        return Instructor(found.email, found.name) if found else None

    def open_session(self, email: str) -> str:
        """A session in PostgreSQL, shared by every dashboard process."""
        lasts = timedelta(hours=self.settings.dashboard_session_hours)
        return accounts.open_session(self._store, email, lasts)

    def resume_session(self, token: str) -> Instructor | None:
        """The session's instructor while it is live."""
        found = accounts.session_instructor(self._store, token)
        return Instructor(found.email, found.name) if found else None

    def sso_session(self, email: str, issued_at: datetime) -> tuple[str, Instructor] | None:
        """A session in PostgreSQL for a single sign-on identity."""
        lasts = timedelta(hours=self.settings.dashboard_session_hours)
        found = accounts.sso_session(self._store, email, issued_at, lasts)
        if found is None:
            return None
        token, who = found
        return token, Instructor(who.email, who.name)

    def end_session(self, token: str) -> None:
        """End the session for every tab."""
        accounts.end_session(self._store, token)

    def classrooms(self, email: str) -> list[dict[str, Any]]:
        """Only the classrooms this instructor was granted."""
        return accounts.classrooms_of(self._store, email)

    def snapshot(self, classroom_id: str, activity_minutes: int = 60) -> ClassroomSnapshot:
        """The classroom aggregate, in one actor call."""
        return blocking(self._actors.snapshot(classroom_id, activity_minutes), _CALL_TIMEOUT_S)

    def student(self, classroom_id: str, student_id: str) -> StudentDetail | None:
        """One student's detail."""
        return blocking(self._actors.student(classroom_id, student_id), _CALL_TIMEOUT_S)

    def claim_help(self, classroom_id: str, student_id: str, instructor: str) -> None:
        """ "On my way": logged, so the wait time is kept."""
        self._help(classroom_id, student_id, "claim", instructor)

    def resolve_help(self, classroom_id: str, student_id: str, instructor: str) -> None:
        """The request is dealt with."""
        self._help(classroom_id, student_id, "resolve", instructor)

    def resolve_errors(self, classroom_id: str, student_id: str, instructor: str) -> None:
        """Clear a student's "stuck" flag: logged, with the instructor's name."""
        answer = self._actors.resolve_errors(classroom_id, student_id, instructor)
        self._check(blocking(answer, _CALL_TIMEOUT_S))

    def send_message(
        self, classroom_id: str, instructor: str, text: str, student_id: str | None
    ) -> None:
        """A message to one student or the class: logged, then carried in their answers."""
        answer = self._actors.message(classroom_id, instructor, text, student_id)
        self._check(blocking(answer, _CALL_TIMEOUT_S))

    def seat_map(self, classroom_id: str) -> SeatMap | None:
        """From PostgreSQL, shared by every dashboard process."""
        return seat_maps.load(self._store, classroom_id)

    def save_seat_picture(self, classroom_id: str, picture: bytes) -> None:
        """Store the room picture."""
        seat_maps.save_picture(self._store, classroom_id, picture, "image/jpeg")

    def place_team(self, classroom_id: str, team: str, x: float, y: float) -> None:
        """Store a team's place."""
        seat_maps.place(self._store, classroom_id, team, x, y)

    def remove_seat_map(self, classroom_id: str) -> None:
        """Forget the picture and the places."""
        seat_maps.remove(self._store, classroom_id)

    def set_threshold(self, classroom_id: str, significant_errors: int) -> None:
        """The classroom's consecutive-error threshold."""
        answer = self._actors.configure(classroom_id, significant_errors)
        self._check(blocking(answer, _CALL_TIMEOUT_S))

    def set_consent_policy(self, classroom_id: str, required: bool) -> None:
        """Ask the students for research consent, or stop asking (logged)."""
        answer = self._actors.set_consent_policy(classroom_id, required)
        self._check(blocking(answer, _CALL_TIMEOUT_S))

    def rotate_tokens(self, classroom_id: str) -> dict[str, str]:
        """New tokens, shown once."""
        return blocking(self._actors.rotate_tokens(classroom_id), _CALL_TIMEOUT_S)

    def enroll(self, classroom_id: str, student_id: str, name: str | None, team: str | None) -> str:
        """Put a student on the roster; their own token, shown once."""
        return blocking(self._actors.enroll(classroom_id, student_id, name, team), _CALL_TIMEOUT_S)

    def rotate_student_token(self, classroom_id: str, student_id: str) -> str:
        """A new token for an enrolled student; the old one stops working within 30 s."""
        rotated = self._actors.student_token(classroom_id, student_id, replace_only=True)
        return blocking(rotated, _CALL_TIMEOUT_S)

    def remove_student(self, classroom_id: str, student_id: str) -> None:
        """Revoke the student's token and take them off the roster."""
        blocking(self._actors.unenroll(classroom_id, student_id), _CALL_TIMEOUT_S)

    def forget_student(self, classroom_id: str, student_id: str, instructor: str) -> dict[str, Any]:
        """Delete everything stored about a student; a large class takes a while to rebuild."""
        asked_by = f"dashboard ({instructor})"
        forgotten: dict[str, Any] = blocking(
            self._actors.forget_student(classroom_id, student_id, asked_by), _FORGET_TIMEOUT_S
        )
        return forgotten

    def retention_days(self, classroom_id: str) -> int | None:
        """The classroom's retention period in days, None: for good."""
        rooms = blocking(self._actors.classrooms(), _CALL_TIMEOUT_S)
        found = [r.get("retention_days") for r in rooms if r["classroom_id"] == classroom_id]
        return found[0] if found else None

    def set_retention(self, classroom_id: str, days: int | None) -> None:
        """Keep the classroom's events `days` days (None: for good)."""
        blocking(self._actors.set_retention(classroom_id, days), _CALL_TIMEOUT_S)

    def requires_student_tokens(self, classroom_id: str) -> bool:
        """Whether the classroom refuses its classroom-wide token."""
        rooms = blocking(self._actors.classrooms(), _CALL_TIMEOUT_S)
        return any(r["classroom_id"] == classroom_id and r["require_student_tokens"] for r in rooms)

    def require_student_tokens(self, classroom_id: str, required: bool) -> None:
        """Turn "students must use their own token" on or off."""
        blocking(self._actors.require_student_tokens(classroom_id, required), _CALL_TIMEOUT_S)

    def alerts(self, classroom_id: str, after: int) -> list[dict[str, Any]]:
        """Alerts that arrived over Redis since id `after`."""
        return self._feed.since(classroom_id, after)

    def activity(self, classroom_id: str, window: str) -> list[dict[str, Any]]:
        """Executions, errors and help per bucket: InfluxDB, else the actors' minute series."""
        minutes, bucket = ACTIVITY_WINDOWS[window]
        try:
            return asyncio.run(self._influx_activity(classroom_id, minutes, bucket))
        except Exception:  # InfluxDB down or empty: the actors keep a per-minute series too
            rows = self.snapshot(classroom_id, activity_minutes=minutes)["activity"]
            return bucketed(rows, bucket, datetime.now(UTC), minutes)

    async def _influx_activity(self, classroom_id: str, minutes: int, bucket: int) -> list[Any]:
        from actors.adapters.influx.query import influxql_string, query
        from actors.adapters.influx.target import parse_influx_url

        target = parse_influx_url(self.settings.influx_url or "")
        rows = await query(
            target.url,
            target.database,
            'SELECT sum("executions") AS executions, sum("errors") AS errors,'
            ' sum("help") AS help FROM classroom_activity'
            f" WHERE classroom = {influxql_string(classroom_id)} AND time > now() - {minutes}m"
            f" GROUP BY time({bucket}m) fill(0)",
        )
        if not rows:
            raise LookupError("no activity in InfluxDB")
        return [
            {
                "time": r["time"],
                "executions": r["executions"] or 0,
                "errors": r["errors"] or 0,
                "help": r["help"] or 0,
            }
            for r in rows
        ]

    def _help(self, classroom_id: str, student_id: str, action: str, instructor: str) -> None:
        answer = self._actors.help_action(classroom_id, student_id, action, instructor)
        self._check(blocking(answer, _CALL_TIMEOUT_S))

    @staticmethod
    def _check(result: dict[str, Any]) -> None:
        if "error" in result:
            raise RuntimeError(f"not saved: {result.get('detail', result['error'])}")
