"""FakeBackend: the Backend protocol over a deterministic simulated class, for demos and tests."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from streamlit_dashboard.backend import Instructor
from streamlit_dashboard.fake_class import (
    CELL_CODE,
    ERRORS,
    FakeStudent,
    iso,
    make_students,
    series,
)
from streamlit_dashboard.fake_views import cells, help_entry, row, student_cell, teams, timeline

PASSWORD = "cellmon"
INSTRUCTORS = {"teacher@example.edu": "Dr. Grace Teacher", "ta@example.edu": "Sam Assistant"}
CLASSROOMS = {  # classroom_id -> (name, size, who may see it)
    "ds101": ("Data Science 101", 30, {"teacher@example.edu", "ta@example.edu"}),
    "lecture": ("Programming Lecture (1,000)", 1000, {"teacher@example.edu"}),
    "other": ("Someone else's class", 12, {"nobody@example.edu"}),
}
WINDOW_STEPS = {"1h": (timedelta(minutes=5), 12), "24h": (timedelta(hours=1), 24)}
WINDOW_STEPS["7d"] = (timedelta(hours=4), 42)


class FakeBackend:
    """In-memory classes; records every call that changes state in `calls`."""

    def __init__(self, sizes: dict[str, int] | None = None, live_after_s: float | None = None):
        self.t0 = datetime.now(UTC)
        self.calls: list[tuple[str, ...]] = []
        self.thresholds = {cid: 3 for cid in CLASSROOMS}
        self.students: dict[str, list[FakeStudent]] = {}
        for n, (cid, (_, size, _)) in enumerate(CLASSROOMS.items()):
            size = (sizes or {}).get(cid, size)
            self.students[cid] = make_students(size, seed=101 + n, now=self.t0)
        self._alerts: list[dict[str, Any]] = []
        self._live_after = live_after_s  # a new hand goes up this long after the first look
        self._live_t0: datetime | None = None
        for cid, roster in self.students.items():
            raised = [s for s in roster if s.help_since]
            for s in sorted(raised, key=lambda s: s.help_since or self.t0):
                self._alert("help_raised", cid, s, since=iso(s.help_since))

    # -- Backend protocol -------------------------------------------------------------
    def login(self, email: str, password: str, client: str = "") -> Instructor | None:
        """Any known instructor with the shared demo password."""
        name = INSTRUCTORS.get(email.strip().lower())
        return Instructor(email.strip().lower(), name) if name and password == PASSWORD else None

    def classrooms(self, email: str) -> list[dict[str, Any]]:
        """The classes this instructor may see."""
        return [
            {"classroom_id": cid, "name": name}
            for cid, (name, _, who) in CLASSROOMS.items()
            if email in who
        ]

    def snapshot(self, classroom_id: str, activity_minutes: int = 60) -> dict[str, Any]:
        """The live view of one class, shaped like the actors' snapshot."""
        self._tick()
        now = datetime.now(UTC)
        roster = self.students[classroom_id]
        rows = [row(s) for s in roster]
        counts = Counter(r["status"] for r in rows)
        queue = sorted((s for s in roster if s.help_since), key=lambda s: s.help_since or now)
        start = now.replace(second=0, microsecond=0) - timedelta(minutes=activity_minutes - 1)
        resolved = [h for s in roster for h in s.help_history]
        return {
            "classroom_id": classroom_id,
            "generated_at": iso(now),
            "significant_error_threshold": self.thresholds[classroom_id],
            "summary": {
                "students": len(rows),
                **{k: counts.get(k, 0) for k in ("help", "significant_error", "error")},
                **{k: counts.get(k, 0) for k in ("active", "idle")},
                "executions": sum(s.executions for s in roster),
                "errors": sum(s.errors for s in roster),
            },
            "help_queue": [help_entry(s, now) for s in queue],
            "students": rows,
            "teams": teams(roster),
            "cells": cells(roster),
            "activity": series(start, timedelta(minutes=1), activity_minutes, len(rows), "minute"),
            "events_applied": sum(s.executions for s in roster) * 2,
            "help_stats": {
                "resolved": len(resolved),
                "mean_wait_s": _mean(h["wait_s"] for h in resolved),
                "mean_handling_s": _mean(h["handling_s"] for h in resolved),
            },
        }

    def student(self, classroom_id: str, student_id: str) -> dict[str, Any] | None:
        """One student's detail: the row plus code, error, cells, help history, timeline."""
        s = self._find(classroom_id, student_id)
        if s is None:
            return None
        cur = min(s.completed, len(CELL_CODE) - 1)
        failing = s.status in ("help", "significant_error", "error")
        err = ERRORS[int(s.student_id[1:]) % len(ERRORS)]
        return {
            **row(s),
            "last_error_at": iso(s.last_activity_at) if s.errors else None,
            "current_cell_id": f"cell-{cur + 1:02d}",
            "last_code": CELL_CODE[cur],
            "last_error": f"Traceback (most recent call last):\n  ...\n{err[1]}"
            if failing
            else None,
            "cells": [student_cell(s, i) for i in range(len(CELL_CODE))],
            "help_history": [
                {k: v for k, v in h.items() if k != "handling_s"} for h in s.help_history
            ],
            "timeline": timeline(s, cur, failing, err[0]),
        }

    def claim_help(self, classroom_id: str, student_id: str, instructor: str) -> None:
        """Mark a help request as being handled by this instructor."""
        self.calls.append(("claim_help", classroom_id, student_id, instructor))
        s = self._find(classroom_id, student_id)
        if s and s.help_since:
            s.claimed_by, s.claimed_at = instructor, datetime.now(UTC)
            self._alert("help_claimed", classroom_id, s, by=instructor)

    def resolve_help(self, classroom_id: str, student_id: str, instructor: str) -> None:
        """Close a help request; the student goes back to active."""
        self.calls.append(("resolve_help", classroom_id, student_id, instructor))
        s = self._find(classroom_id, student_id)
        if s and s.help_since:
            now = datetime.now(UTC)
            claimed = s.claimed_at or now
            s.help_history.append(
                {
                    "raised_at": iso(s.help_since),
                    "claimed_at": iso(claimed),
                    "claimed_by": s.claimed_by or instructor,
                    "resolved_at": iso(now),
                    "resolved_by": instructor,
                    "wait_s": (claimed - s.help_since).total_seconds(),
                    "handling_s": (now - claimed).total_seconds(),
                }
            )
            s.help_since = s.claimed_by = s.claimed_at = None
            s.status, s.consecutive_errors, s.last_activity_at = "active", 0, now
            self._alert("help_resolved", classroom_id, s, by=instructor)

    def set_threshold(self, classroom_id: str, significant_errors: int) -> None:
        """Change the consecutive-error threshold."""
        self.calls.append(("set_threshold", classroom_id, str(significant_errors)))
        self.thresholds[classroom_id] = significant_errors

    def rotate_tokens(self, classroom_id: str) -> dict[str, str]:
        """New tokens, derived from a counter so runs are reproducible."""
        self.calls.append(("rotate_tokens", classroom_id))
        seed = f"{classroom_id}:{len(self.calls)}".encode()
        return {
            "ingest_token": "ing_" + hashlib.sha256(seed + b"i").hexdigest()[:32],
            "instructor_token": "ins_" + hashlib.sha256(seed + b"t").hexdigest()[:32],
        }

    def alerts(self, classroom_id: str, after: int) -> list[dict[str, Any]]:
        """Alerts of this class with id > after, oldest first."""
        self._tick()
        return [a for a in self._alerts if a["classroom_id"] == classroom_id and a["id"] > after]

    def activity(self, classroom_id: str, window: str) -> list[dict[str, Any]]:
        """Executions, errors and help per bucket over the window."""
        step, count = WINDOW_STEPS[window]
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        return series(
            end - step * (count - 1), step, count, len(self.students[classroom_id]), "time"
        )

    # -- demo helpers -------------------------------------------------------------------
    def raise_help(self, classroom_id: str, student_id: str) -> None:
        """A student raises a hand (the demo's way to make a new alert)."""
        s = self._find(classroom_id, student_id)
        if s and not s.help_since:
            s.help_since, s.status = datetime.now(UTC), "help"
            self._alert("help_raised", classroom_id, s, since=iso(s.help_since))

    def _tick(self) -> None:
        if self._live_after is None:
            return
        self._live_t0 = self._live_t0 or datetime.now(UTC)
        if datetime.now(UTC) - self._live_t0 > timedelta(seconds=self._live_after):
            self._live_after = None
            calm = next(s for s in self.students["ds101"] if s.status == "active")
            self.raise_help("ds101", calm.student_id)

    def _alert(self, kind: str, cid: str, s: FakeStudent, **extra: Any) -> None:
        alert = {"id": len(self._alerts) + 1, "kind": kind, "classroom_id": cid}
        self._alerts.append({**alert, "student_id": s.student_id, "name": s.name, **extra})

    def _find(self, cid: str, sid: str) -> FakeStudent | None:
        return next((s for s in self.students.get(cid, []) if s.student_id == sid), None)


def _mean(values: Any) -> float | None:
    vals = list(values)
    return sum(vals) / len(vals) if vals else None
