"""What a shard reports to InfluxDB: cell runs, help changes, per-minute class activity.

Never in the way of ingestion: lines go to a bounded buffer that a background task flushes;
when InfluxDB is down the writer retries, then drops and counts (see `counters`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from actors.adapters.influx import forget
from actors.adapters.influx.lines import activity_point, cell_point, help_point
from actors.adapters.influx.writer import InfluxWriter, from_url
from actors.adapters.stores import Logged
from actors.domain.classroom import ClassroomActor
from actors.domain.state import Effect, HelpRaised, HelpWithdrawn


class MetricsSink:
    """Turns applied events and effects into line protocol for one InfluxDB database."""

    def __init__(self, url: str | None) -> None:
        self._writer: InfluxWriter | None = from_url(url) if url else None

    def record(self, classroom_id: str, logged: list[Logged], effects: list[Effect]) -> None:
        """Cell runs (made unique by their log position) and help changes of one batch."""
        if self._writer is None or not logged:
            return
        self._writer.start()
        lines = [line for entry in logged if (line := cell_point(entry.event, entry.seq))]
        position = logged[-1].seq  # help changes of this batch: unique among themselves too
        for n, effect in enumerate(effects):
            if isinstance(effect, HelpRaised):
                lines.append(
                    help_point(
                        classroom_id,
                        effect.student_id,
                        "raised",
                        effect.since,
                        uniquifier=position + n,
                    )
                )
            elif isinstance(effect, HelpWithdrawn):
                lines.append(
                    help_point(
                        classroom_id,
                        effect.student_id,
                        "withdrawn",
                        effect.at,
                        effect.waited.total_seconds(),
                        uniquifier=position + n,
                    )
                )
        self._writer.add_many(lines)

    def record_activity(self, classroom: ClassroomActor, now: datetime) -> None:
        """The current and previous minute's activity (re-writing a minute overwrites it)."""
        if self._writer is None:
            return
        self._writer.start()
        # Only what the point needs: not a whole snapshot of every student each tick.
        active = sum(
            1 for s in classroom.students.values() if s.status(now, classroom.rules) != "idle"
        )
        for minute in classroom.activity.since(now - timedelta(minutes=2)):
            at = datetime.fromisoformat(minute["minute"])
            if now - at > timedelta(minutes=2):
                continue
            self._writer.add(
                activity_point(
                    classroom.classroom_id,
                    at,
                    minute["executions"],
                    minute["errors"],
                    minute["help"],
                    active,
                )
            )

    async def flush(self) -> None:
        """Write what is buffered now."""
        if self._writer is not None:
            await self._writer.flush()

    async def forget_student(self, classroom_id: str, student_id: str) -> int:
        """Delete the student's points of the classroom; how many went (0 with metrics off)."""
        if self._writer is None:
            return 0
        return await forget.forget_student(
            self._writer.url, self._writer.database, classroom_id, student_id
        )

    async def purge_before(self, classroom_id: str, before: datetime) -> None:
        """Delete the classroom's points timed before `before` (nothing with metrics off)."""
        if self._writer is not None:
            await forget.purge_before(self._writer.url, self._writer.database, classroom_id, before)

    @property
    def counters(self) -> dict[str, int]:
        """written / retried / dropped / buffered, or empty when metrics are off."""
        return self._writer.counters if self._writer else {}
