"""One retry timing for every client of ours (the student's sender, the class simulator, the
InfluxDB writer): exponential backoff with jitter, never sooner than the server's Retry-After,
which is itself capped. Pure: the caller passes the clock and the random source."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_S = 300.0  # a broken or hostile header must not park a client for hours


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays that double from `base_s` up to `max_s`; half fixed, half random, so clients
    that failed together do not retry in step."""

    base_s: float = 0.5
    max_s: float = 60.0

    def delay(self, failures: int, retry_after_s: float | None, rng: random.Random) -> float:
        """Seconds to wait after the `failures`-th failure in a row (1-based); a little over
        Retry-After when the server gave one, so a whole class told "2" does not come back in
        the same millisecond."""
        ceiling = min(self.max_s, self.base_s * 2.0 ** min(max(0, failures - 1), 64))
        backoff = ceiling / 2 + rng.uniform(0.0, ceiling / 2)
        if retry_after_s is None:
            return backoff
        return max(backoff, retry_after_s + rng.uniform(0.0, 0.1 * retry_after_s + 0.5))


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (delta-seconds or an HTTP date) as seconds from `now`, capped at
    `MAX_RETRY_AFTER_S`; None when absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0.0, seconds), MAX_RETRY_AFTER_S)
