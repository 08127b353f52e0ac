"""When to retry a failed send: exponential backoff with jitter, honouring Retry-After. Pure."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

BASE_DELAY_S = 0.5
MAX_DELAY_S = 30.0
MAX_RETRY_AFTER_S = 300.0  # a broken header must not park a student for hours


def retry_delay(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait before retry `attempt` (0-based); never sooner than Retry-After."""
    ceiling = min(MAX_DELAY_S, BASE_DELAY_S * 2.0**attempt)
    backoff = ceiling / 2 + rng.uniform(0.0, ceiling / 2)  # jitter: students do not retry in step
    if retry_after is None:
        return backoff
    wait = min(retry_after, MAX_RETRY_AFTER_S)
    return wait + rng.uniform(0.0, 0.1 * wait + 0.5)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from `now`; None if unusable."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value, now)
    return seconds if seconds >= 0 else None


def _seconds_until(http_date: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
