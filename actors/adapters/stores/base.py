"""The store interface the actors depend on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from actors.domain.registry import Change, Classroom, Grant

# Kept through retention: the classroom's roster and settings, not what students did.
KEPT_THROUGH_RETENTION = ("roster_updated", "classroom_configured")


class LogUnavailable(Exception):
    """The event log cannot be written or read right now: answer 503, never 2xx."""


class NotOwner(Exception):
    """The registry places the classroom on another shard: this one may not write its log.
    Nothing of the refused append was stored."""

    def __init__(self, classroom_id: str, owner: int) -> None:
        super().__init__(f"classroom {classroom_id!r} is on shard {owner}")
        self.classroom_id, self.owner = classroom_id, owner


@dataclass(frozen=True, slots=True)
class Logged:
    """An event as stored: its position in the log and the event itself."""

    seq: int
    event: Any


class EventStore(Protocol):
    """Append-only event log + classroom checkpoints + the directory's registry."""

    async def append(
        self, classroom_id: str, events: list[Any], shard: int | None = None
    ) -> list[Logged]:
        """Store the events not stored before (by event_id); returns those, in input order.

        With `shard`, only while the registry places the classroom on that shard (or does not
        know it): else NotOwner and nothing stored. The check and the write are one statement
        that holds the classroom's row, so a move (`move_classroom`) waits for an append in
        flight and every append after it sees the new shard: two shards never both write."""

    async def owner(self, classroom_id: str) -> int | None:
        """The shard the registry places the classroom on; None if it does not know it."""

    async def move_classroom(self, classroom_id: str, shard: int) -> None:
        """Place the classroom on another shard (after appends in flight have finished)."""

    async def read_after(self, classroom_id: str, seq: int, limit: int) -> list[Logged]:
        """The classroom's events with a position after `seq`, in log order."""

    async def save_checkpoints(self, rows: list[tuple[str, int, dict[str, Any]]]) -> None:
        """Upsert (classroom_id, covered_seq, state) rows; a row covering less of the log than
        the one stored is ignored (a shard the classroom left, saving late)."""

    async def load_checkpoint(self, classroom_id: str) -> tuple[int, dict[str, Any]] | None:
        """(covered_seq, state) of the classroom's latest checkpoint, if any."""

    async def forget_student(self, classroom_id: str, student_id: str, requested_by: str) -> int:
        """Delete every logged event of the student (theirs, and the instructor's about them)
        and the classroom's checkpoint (it holds their state; the shard writes a new one), and
        record that a deletion happened, without the id: one transaction. Returns how many
        events went."""

    async def purge_before(self, classroom_id: str, before: datetime) -> int:
        """Retention: delete the classroom's events received before `before` (but its roster
        and settings, which are not activity), and its checkpoint if any went; one
        transaction. Returns how many events went."""

    async def save_classroom(self, classroom: Classroom, change: Change) -> None:
        """Register a classroom and its first token digests, in one transaction."""

    async def save_change(self, change: Change) -> None:
        """Drop and add token digests in one transaction (rotation, a student's token)."""

    async def save_classroom_settings(self, classroom: Classroom) -> None:
        """Store a classroom's settings (its token rule)."""

    async def load_registry(self) -> tuple[list[Classroom], dict[str, Grant]]:
        """All classrooms and grants (digest -> grant)."""

    async def fence(self) -> None:
        """End any connection a previous incarnation of this writer left behind, so none of its
        in-flight writes can commit after we have read the log."""

    async def close(self) -> None:
        """Release connections."""
