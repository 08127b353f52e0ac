"""The classroom virtual actor: owns its students and the class-wide aggregates."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from actors.domain import cell_stats
from actors.domain.activity import ActivitySeries
from actors.domain.admission import Admission
from actors.domain.dedup import RecentIds
from actors.domain.error_groups import FailingIndex
from actors.domain.messages import CLASS, Mailbox, Message, inbox
from actors.domain.state import Effect, HelpRaised, Rules
from actors.domain.student import StudentActor, iso
from cellmon.contract import INSTRUCTOR_TYPES, occurred_at
from cellmon.limits import DEFAULT_LIMITS, Limits
from cellmon.views import (
    STATUSES,
    ClassroomSnapshot,
    HelpEntry,
    HelpStats,
    Inbox,
    StudentDetail,
    StudentRow,
    Summary,
    TeamRow,
)

log = logging.getLogger("cellmon.classroom")
SENT_SHOWN = 10  # the instructor's latest messages in a snapshot


@dataclass
class BatchOutcome:
    """What applying a batch did: how many were new, how many already seen, what to publish."""

    applied: int = 0
    duplicates: int = 0
    effects: list[Effect] = field(default_factory=list)


class ClassroomActor:
    """Applies a classroom's events in order; no I/O and no clock (`now` is passed in).

    It mutates its own containers rather than returning a new frozen classroom: copying a
    1,000-student map on every event would be O(students) per event. Student state itself is
    frozen and changed only by the pure `actors.domain.state.apply_event`.
    """

    def __init__(
        self,
        classroom_id: str,
        rules: Rules | None = None,
        dedup_capacity: int = 50_000,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.classroom_id = classroom_id
        self.rules = rules or Rules()
        self.limits = limits
        self.students: dict[str, StudentActor] = {}
        self.cells: dict[str, cell_stats.CellStats] = {}
        self.failing = FailingIndex()
        self.mailbox = Mailbox(limits.messages)
        self.activity = ActivitySeries()
        self.seen = RecentIds(dedup_capacity)
        self.dirty: set[str] = set()
        self.events_applied = 0
        self.apply_failures = 0
        self.consent_required = False  # ask students for research consent (consent_policy)

    def refusals(self, events: list[Any]) -> list[str | None]:
        """For each event in order, why it would pass a bound of `limits` (None: it fits)."""
        admission = Admission(self.students, self.limits)
        return [admission.judge(event) for event in events]

    def apply_batch(self, events: list[Any]) -> BatchOutcome:
        """Apply events in order, skipping any already applied (idempotent by `event_id`)."""
        outcome = BatchOutcome()
        for event in events:
            if event.classroom_id != self.classroom_id:
                raise ValueError(f"event {event.event_id} is not for {self.classroom_id}")
            if not self.seen.add(event.event_id):
                outcome.duplicates += 1
                continue
            try:
                outcome.effects.extend(self._apply(event))
            except Exception:  # a bug for this one event must not stop its classroom
                log.exception(
                    "event %r of %s could not be applied", event.event_id, self.classroom_id
                )
                self.apply_failures += 1
            outcome.applied += 1
        self.events_applied += outcome.applied
        return outcome

    def _apply(self, event: Any) -> list[Effect]:
        if event.type == "classroom_configured":
            self.rules = replace(self.rules, significant_errors=event.significant_errors)
            return []
        if event.type == "consent_policy":
            self.consent_required = event.required
            return []
        if event.type == "instructor_message":  # never creates a student
            at = occurred_at(event)
            self.mailbox.add(
                Message(event.event_id, event.student_id, event.instructor, event.text, at)
            )
            return []
        student = self.students.get(event.student_id)
        if student is None:
            student = self.students[event.student_id] = StudentActor(event.student_id)
        effects, change = student.apply(event, self.rules, self.limits)
        self.dirty.add(event.student_id)
        if change is not None:
            cell_stats.track(self.cells, change)
            self.failing.track(event.student_id, change)
        self._count_activity(event, effects)
        return effects

    def _count_activity(self, event: Any, effects: list[Effect]) -> None:
        if event.type == "cell_executed" and event.status != "aborted":
            self.activity.add(occurred_at(event), executions=1, errors=int(event.status == "error"))
        elif any(isinstance(effect, HelpRaised) for effect in effects):
            # Only a new request counts: the legacy client re-sends `help` every 10 s.
            self.activity.add(occurred_at(event), help=1)

    def snapshot(self, now: datetime, activity_minutes: int = 60) -> ClassroomSnapshot:
        """The aggregate an instructor's screen needs, in one call whatever the class size."""
        rows = [s.summary(now, self.rules) for s in self.students.values()]
        rows.sort(key=lambda r: (STATUSES.index(r["status"]), r["name"] or r["student_id"]))
        return {
            "classroom_id": self.classroom_id,
            "generated_at": now.isoformat(),
            "significant_error_threshold": self.rules.significant_errors,
            "consent_required": self.consent_required,
            "summary": summary_of(rows),
            "help_queue": _help_queue(self.students, now),
            "help_stats": _help_stats(self.students),
            "students": rows,
            "teams": _teams(rows),
            "cells": cell_stats.ordered(self.cells),
            "error_groups": self.failing.groups(self.limits.error_cells),
            "activity": self.activity.since(now - timedelta(minutes=activity_minutes)),
            "events_applied": self.events_applied,
            "messages": [m.as_dict() for m in self.mailbox.recent(SENT_SHOWN)],
        }

    def inbox_for(self, events: list[Any], now: datetime) -> Inbox | None:
        """The inbox of the one student a batch speaks for (None for a batch of several, or an
        instructor's): the ingest's answer carries it back to that student's JupyterLab."""
        first = events[0] if events else None
        if first is None or first.type in INSTRUCTOR_TYPES or first.student_id == CLASS:
            return None
        student_id = first.student_id
        if any(e.student_id != student_id for e in events):
            return None
        actor = self.students.get(student_id)
        private = all(e.verified for e in events)
        state = actor.state if actor else None
        return inbox(student_id, state, self.mailbox, now, private, self.consent_required)

    def student(self, student_id: str, now: datetime) -> StudentDetail | None:
        """One student's detail, or None if the class has never heard of them."""
        actor = self.students.get(student_id)
        return actor.detail(now, self.rules) if actor else None


def summary_of(rows: list[StudentRow]) -> Summary:
    """Counts of the rows by status, and their runs and errors."""
    by_status = Counter(r["status"] for r in rows)
    return {
        "students": len(rows),
        "help": by_status["help"],
        "significant_error": by_status["significant_error"],
        "error": by_status["error"],
        "active": by_status["active"],
        "idle": by_status["idle"],
        "executions": sum(r["executions"] for r in rows),
        "errors": sum(r["errors"] for r in rows),
    }


def _help_queue(students: dict[str, StudentActor], now: datetime) -> list[HelpEntry]:
    """Open requests in the order they were raised, with who is on the way."""
    waiting = sorted(
        (a.state for a in students.values() if a.state.help_since),
        key=lambda s: s.help_since or now,
    )
    return [
        {
            "student_id": s.student_id,
            "name": s.display_name,
            "team": s.display_team,
            "since": iso(s.help_since),
            "waiting_s": _seconds(now - (s.help_since or now)),
            "claimed_by": s.help_claimed_by,
            "claimed_at": iso(s.help_claimed_at),
        }
        for s in waiting
    ]


def _help_stats(students: dict[str, StudentActor]) -> HelpStats:
    """Resolved requests and mean times: raise to claim (wait), claim to end (handling)."""
    episodes = [e for a in students.values() for e in a.state.help_history]
    waits = [_seconds((e.claimed_at or e.ended_at) - e.raised_at) for e in episodes]
    handling = [_seconds(e.ended_at - e.claimed_at) for e in episodes if e.claimed_at]
    return {
        "resolved": sum(1 for e in episodes if e.resolved_by),
        "ended": len(episodes),
        "mean_wait_s": _mean(waits),
        "mean_handling_s": _mean(handling),
    }


def _seconds(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds())


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _teams(rows: list[StudentRow]) -> list[TeamRow]:
    teams: dict[str, TeamRow] = {}
    for r in rows:
        if not r["team"]:
            continue
        team = teams.setdefault(
            r["team"],
            {
                "team": r["team"],
                "members": [],
                "by_status": dict.fromkeys(STATUSES, 0),
                "executions": 0,
                "errors": 0,
            },
        )
        team["members"].append(r["student_id"])
        team["by_status"][r["status"]] += 1
        team["executions"] += r["executions"]
        team["errors"] += r["errors"]
    return sorted(teams.values(), key=lambda t: t["team"])
