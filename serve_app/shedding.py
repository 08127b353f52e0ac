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
counts only from CROWD requests held on. And the completion rate measures what the replica can
do only once it has been crowded for a whole window: before that it measures what it was asked
(a class of 2,000 at 220 requests/s that closes its notebooks at the bell held 157 requests
"about 1.0 s of work" by the calm rate, and was refused 503, where the burst cleared in a third
of that). So a burst is taken; a crowd that lasts is shed.
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
    _crowded_since: float | None = None  # when the replica last began holding CROWD or more

    @classmethod
    def configured(cls, settings: Settings) -> Shedding:
        return cls(settings.ingest_in_flight_max, settings.queue_limit_s)

    def record_done(self, now: float, in_flight: int) -> None:
        """A request was answered (its events logged, or refused by the shard); `in_flight`
        requests are still held."""
        self._done.append(now)
        self._trim(now)
        self.crowded_for_s(in_flight, now)

    def done_per_s(self, now: float) -> float:
        self._trim(now)
        return len(self._done) / WINDOW_S

    def expected_wait_s(self, in_flight: int, now: float) -> float:
        """Little's law: how long a request taken now would wait, from those held."""
        if not in_flight:
            return 0.0
        rate = self.done_per_s(now)
        return in_flight / rate if rate else float("inf")

    def crowded_for_s(self, in_flight: int, now: float) -> float:
        """Record whether the replica holds a crowd now; how long it has held CROWD requests or
        more, without a pause."""
        if in_flight < CROWD:
            self._crowded_since = None
            return 0.0
        if self._crowded_since is None:
            self._crowded_since = now
        return now - self._crowded_since

    def refusal(self, in_flight: int, queued_s: float, now: float) -> Refusal | None:
        """Why a bulk batch arriving now is refused, or None to take it. `queued_s`: how long
        the classroom's oldest waiting batch has waited for its shard call."""
        if queued_s > self.queue_limit_s:
            return Refusal(f"this classroom's queue is {queued_s:.1f} s long", classroom_only=True)
        if in_flight >= self.in_flight_max:
            return Refusal(f"the ingest holds {in_flight:,} requests", classroom_only=False)
        if self.crowded_for_s(in_flight, now) >= WINDOW_S:
            wait = self.expected_wait_s(in_flight, now)
            if wait > self.queue_limit_s:
                why = f"the ingest holds {in_flight:,} requests, about {wait:.1f} s of work"
                return Refusal(why, classroom_only=False)
        return None

    def _trim(self, now: float) -> None:
        while self._done and self._done[0] < now - WINDOW_S:
            self._done.popleft()
