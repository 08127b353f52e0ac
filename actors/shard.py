"""A shard hosts many classroom virtual actors (and so their students) in one Ray actor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from actors.alerts import alert_for
from actors.classroom import ClassroomActor
from actors.ports import AlertPublisher, open_publisher
from actors.state import Rules


class Shard:
    """The host. Ray makes it an async actor (see `actors.handles`); its methods never await
    inside a classroom update, so each classroom's events are applied one batch at a time."""

    def __init__(
        self, shard_id: int, significant_errors: int = 3, alerts_url: str = "memory://"
    ) -> None:
        self.shard_id = shard_id
        self.default_rules = Rules(significant_errors=significant_errors)
        self.classrooms: dict[str, ClassroomActor] = {}
        self.publisher: AlertPublisher = open_publisher(alerts_url)

    def _classroom(self, classroom_id: str) -> ClassroomActor:
        classroom = self.classrooms.get(classroom_id)
        if classroom is None:
            classroom = ClassroomActor(classroom_id, self.default_rules)
            self.classrooms[classroom_id] = classroom
        return classroom

    async def apply(self, classroom_id: str, events: list[Any]) -> dict[str, int]:
        """Apply a batch for one classroom; answers how many were new and how many re-sent."""
        outcome = self._classroom(classroom_id).apply_batch(events)
        for effect in outcome.effects:
            self.publisher.publish(classroom_id, alert_for(classroom_id, effect))
        return {"applied": outcome.applied, "duplicates": outcome.duplicates}

    async def snapshot(self, classroom_id: str, activity_minutes: int = 60) -> dict[str, Any]:
        """The classroom's aggregate as of now."""
        return self._classroom(classroom_id).snapshot(_now(), activity_minutes)

    async def student(self, classroom_id: str, student_id: str) -> dict[str, Any] | None:
        """One student's detail, or None."""
        return self._classroom(classroom_id).student(student_id, _now())

    async def stats(self) -> dict[str, Any]:
        """What this shard holds, for `cellmon status`."""
        return {
            "shard": self.shard_id,
            "classrooms": len(self.classrooms),
            "students": sum(len(c.students) for c in self.classrooms.values()),
            "events_applied": sum(c.events_applied for c in self.classrooms.values()),
        }


def _now() -> datetime:
    return datetime.now(UTC)
