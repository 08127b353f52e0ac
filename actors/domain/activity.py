"""Per-minute activity of a class (executions, errors, help requests), bounded in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cellmon.views import ActivityMinute

_MINUTE = 60


class ActivitySeries:
    """Sparse per-minute counters; minutes older than the window are dropped."""

    def __init__(self, window: timedelta = timedelta(days=7)) -> None:
        self._window_minutes = int(window.total_seconds()) // _MINUTE
        self._minutes: dict[int, list[int]] = {}
        self._newest = 0

    def add(self, at: datetime, *, executions: int = 0, errors: int = 0, help: int = 0) -> None:
        """Count activity in the minute of `at`."""
        minute = int(at.timestamp()) // _MINUTE
        if minute <= self._newest - self._window_minutes:
            return
        counts = self._minutes.setdefault(minute, [0, 0, 0])
        counts[0] += executions
        counts[1] += errors
        counts[2] += help
        if minute > self._newest:
            self._newest = minute
            self._prune()

    def since(self, start: datetime) -> list[ActivityMinute]:
        """Minutes with activity at or after `start`, oldest first."""
        first = int(start.timestamp()) // _MINUTE
        return [
            {
                "minute": datetime.fromtimestamp(m * _MINUTE, UTC).isoformat(),
                "executions": c[0],
                "errors": c[1],
                "help": c[2],
            }
            for m, c in sorted(self._minutes.items())
            if m >= first
        ]

    def dump(self) -> list[list[int]]:
        """[minute, executions, errors, help] rows, for checkpoints."""
        return [[minute, *counts] for minute, counts in sorted(self._minutes.items())]

    def load(self, rows: list[list[int]]) -> None:
        """Restore what `dump` produced."""
        self._minutes = {row[0]: list(row[1:]) for row in rows}
        self._newest = max(self._minutes, default=0)

    def _prune(self) -> None:
        oldest = self._newest - self._window_minutes
        if len(self._minutes) > self._window_minutes or min(self._minutes) <= oldest:
            for minute in [m for m in self._minutes if m <= oldest]:
                del self._minutes[minute]
