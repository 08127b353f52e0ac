"""An in-process store for unit tests: same contract as PostgreSQL, nothing survives."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime
from typing import Any

from actors.adapters.stores.base import KEPT_THROUGH_RETENTION, Logged, LogUnavailable, NotOwner
from actors.domain.registry import Change, Classroom, Grant


class MemoryStore:
    """Lists and dicts. `available = False` makes every call raise LogUnavailable (an outage);
    `lose_answers = True` makes `append` store the events, then raise (a lost commit answer)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Logged]] = []
        self._ids: set[tuple[str, str]] = set()
        self.checkpoints: dict[str, tuple[int, dict[str, Any]]] = {}
        self.classrooms: dict[str, Classroom] = {}
        self.grants: dict[str, Grant] = {}
        self.forgotten: list[tuple[str, str, int]] = []  # (classroom, requested by, events)
        self._seq = 0
        self.available = True
        self.lose_answers = False

    def _check(self) -> None:
        if not self.available:
            raise LogUnavailable("memory store is switched off")

    async def append(
        self, classroom_id: str, events: list[Any], shard: int | None = None
    ) -> list[Logged]:
        """Store events with unseen ids (only from the classroom's shard, given one)."""
        self._check()
        owner = await self.owner(classroom_id)
        if shard is not None and owner is not None and owner != shard:
            raise NotOwner(classroom_id, owner)
        new = []
        for event in events:
            key = (classroom_id, event.event_id)
            if key in self._ids:
                continue
            self._ids.add(key)
            self._seq += 1
            logged = Logged(self._seq, event)
            self.log.append((classroom_id, logged))
            new.append(logged)
        if self.lose_answers:
            raise LogUnavailable("connection lost after the commit")
        return new

    async def owner(self, classroom_id: str) -> int | None:
        """The registered classroom's shard."""
        self._check()
        found = self.classrooms.get(classroom_id)
        return found.shard if found else None

    async def move_classroom(self, classroom_id: str, shard: int) -> None:
        """Place it on another shard."""
        self._check()
        self.classrooms[classroom_id] = replace(self.classrooms[classroom_id], shard=shard)

    async def read_after(self, classroom_id: str, seq: int, limit: int) -> list[Logged]:
        """Events of the classroom after `seq`."""
        self._check()
        rows = [e for c, e in self.log if c == classroom_id and e.seq > seq]
        return rows[:limit]

    async def save_checkpoints(self, rows: list[tuple[str, int, dict[str, Any]]]) -> None:
        """Keep copies, as a database would."""
        self._check()
        for classroom_id, covered, state in rows:
            if covered >= self.checkpoints.get(classroom_id, (covered,))[0]:  # never older
                self.checkpoints[classroom_id] = (covered, copy.deepcopy(state))

    async def load_checkpoint(self, classroom_id: str) -> tuple[int, dict[str, Any]] | None:
        """The kept checkpoint."""
        self._check()
        found = self.checkpoints.get(classroom_id)
        return (found[0], copy.deepcopy(found[1])) if found else None

    async def forget_student(self, classroom_id: str, student_id: str, requested_by: str) -> int:
        """The student's events and the classroom's checkpoint out, the record in."""
        self._check()
        kept, removed = [], 0
        for classroom, logged in self.log:
            event = logged.event
            if classroom == classroom_id and event.student_id == student_id:
                self._ids.discard((classroom, event.event_id))
                removed += 1
            else:
                kept.append((classroom, logged))
        self.log = kept
        self.checkpoints.pop(classroom_id, None)
        self.forgotten.append((classroom_id, requested_by, removed))
        return removed

    async def purge_before(self, classroom_id: str, before: datetime) -> int:
        """Old activity out; the checkpoint too when anything went."""
        self._check()
        kept, removed = [], 0
        for classroom, logged in self.log:
            event = logged.event
            old = event.received_at < before and event.type not in KEPT_THROUGH_RETENTION
            if classroom == classroom_id and old:
                self._ids.discard((classroom, event.event_id))
                removed += 1
            else:
                kept.append((classroom, logged))
        self.log = kept
        if removed:
            self.checkpoints.pop(classroom_id, None)
        return removed

    async def save_classroom(self, classroom: Classroom, change: Change) -> None:
        """Register the classroom and its grants."""
        self._check()
        self.classrooms[classroom.classroom_id] = classroom
        self._save(change)

    async def save_change(self, change: Change) -> None:
        """Drop and add digests."""
        self._check()
        self._save(change)

    async def save_classroom_settings(self, classroom: Classroom) -> None:
        """Keep the classroom's settings."""
        self._check()
        self.classrooms[classroom.classroom_id] = classroom

    async def load_registry(self) -> tuple[list[Classroom], dict[str, Grant]]:
        """Everything registered."""
        self._check()
        return list(self.classrooms.values()), dict(self.grants)

    def _save(self, change: Change) -> None:
        for digest in change.dropped:
            self.grants.pop(digest, None)
        self.grants.update(change.added)

    async def fence(self) -> None:
        """Nothing can be in flight in memory."""

    async def close(self) -> None:
        """Nothing to release."""
