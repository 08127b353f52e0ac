"""When an ingest replica refuses a batch at once rather than take it. Pure: the caller
counts its requests and their completions, with a monotonic clock.

A replica that takes everything under overload answers everyone late: measured before this,
6,000 students queued for minutes, and 512 connections of `wrk` waited up to 14 s. Telling a
student's Jupyter to come back shortly costs a fraction of taking its batch, and its events wait
safely in its spool. A raised hand is never shed here, and the shard puts it ahead of queued
cell runs.

A classroom whose own queue is too long is refused with 429: that classroom sends faster than
its share is applied (one token inventing 20,000 students, say), and the others go on. An ingest
holding too much for everyone is refused with 503: the service itself is at capacity.

How long a request will wait follows from Little's law: the requests held, over the rate they
complete. A few requests waiting on a classroom's first load are not overload, so the estimate
counts only from CROWD requests held on.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from cellmon.settings import Settings

WINDOW_S = 1.0  # completions are counted over the last second
CROWD = 100  # requests held before the wait estimate can refuse anything


@dataclass(frozen=True)
class Refusal:
    reason: str
    classroom_only: bool  # the classroom's own queue (429), not the whole ingest (503)


@dataclass
class Shedding:
    in_flight_max: int
    queue_limit_s: float
    _done: deque[float] = field(default_factory=deque)

    @classmethod
    def configured(cls, settings: Settings) -> Shedding:
        return cls(settings.ingest_in_flight_max, settings.queue_limit_s)

    def record_done(self, now: float) -> None:
        """A request was answered (its events logged, or refused by the shard)."""
        self._done.append(now)
        self._trim(now)

    def done_per_s(self, now: float) -> float:
        self._trim(now)
        return len(self._done) / WINDOW_S

    def expected_wait_s(self, in_flight: int, now: float) -> float:
        """Little's law: how long a request taken now would wait, from those held."""
        if not in_flight:
            return 0.0
        rate = self.done_per_s(now)
        return in_flight / rate if rate else float("inf")

    def refusal(self, in_flight: int, queued_s: float, now: float) -> Refusal | None:
        """Why a bulk batch arriving now is refused, or None to take it. `queued_s`: how long
        the classroom's oldest waiting batch has waited for its shard call."""
        if queued_s > self.queue_limit_s:
            return Refusal(f"this classroom's queue is {queued_s:.1f} s long", classroom_only=True)
        if in_flight >= self.in_flight_max:
            return Refusal(f"the ingest holds {in_flight:,} requests", classroom_only=False)
        if in_flight >= CROWD:
            wait = self.expected_wait_s(in_flight, now)
            if wait > self.queue_limit_s:
                why = f"the ingest holds {in_flight:,} requests, about {wait:.1f} s of work"
                return Refusal(why, classroom_only=False)
        return None

    def _trim(self, now: float) -> None:
        while self._done and self._done[0] < now - WINDOW_S:
            self._done.popleft()
