"""When an ingest replica answers 503 at once rather than take a batch. Pure: the caller
measures its event loop's lateness and counts its requests, with a monotonic clock.

A replica that takes everything under overload answers everyone late: measured before this,
6,000 students queued for minutes. Telling a student's Jupyter to come back shortly costs a
fraction of taking its batch, and its events wait safely in its spool. A raised hand is never
shed here, and the shard puts it ahead of queued cell runs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from cellmon.settings import Settings

WINDOW_S = 1.0  # lateness counts as sustained when every probe of the last second saw it


@dataclass
class Shedding:
    lag_limit_ms: float
    in_flight_max: int
    queue_limit_s: float
    _lags: deque[tuple[float, float]] = field(default_factory=deque)

    @classmethod
    def configured(cls, settings: Settings) -> Shedding:
        return cls(
            settings.ingest_lag_limit_ms, settings.ingest_in_flight_max, settings.queue_limit_s
        )

    def record_lag(self, lag_ms: float, now: float) -> None:
        self._lags.append((now, lag_ms))
        while self._lags and self._lags[0][0] < now - WINDOW_S:
            self._lags.popleft()

    def reason(self, in_flight: int, queued_s: float, now: float) -> str | None:
        """Why a bulk batch arriving now is refused, or None to take it. `queued_s`: how long
        the classroom's oldest waiting batch has waited for its shard call. One late timer (a
        garbage collection, a neighbour's burst) is not overload: every probe of the last
        second, at least two, must have run late."""
        if queued_s > self.queue_limit_s:
            return f"the classroom's queue is {queued_s:.1f} s long"
        if in_flight >= self.in_flight_max:
            return f"the ingest holds {in_flight:,} requests"
        recent = [lag for at, lag in self._lags if at >= now - WINDOW_S]
        if len(recent) >= 2 and min(recent) > self.lag_limit_ms:
            return f"the ingest runs {min(recent):.0f} ms behind"
        return None
