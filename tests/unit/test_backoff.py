"""The one retry timing every client shares: doubling, jittered, capped, after Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from cellmon.backoff import MAX_RETRY_AFTER_S, Backoff, retry_after_s

pytestmark = pytest.mark.unit
NOW = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def test_delays_double_with_jitter_up_to_a_ceiling() -> None:
    rng, backoff = random.Random(1), Backoff(base_s=0.5, max_s=30.0)
    delays = [backoff.delay(failures, None, rng) for failures in range(1, 11)]
    assert 0.25 <= delays[0] <= 0.5 and 4 <= delays[4] <= 8
    assert max(delays) <= 30 and delays[-1] >= 15
    assert len({backoff.delay(4, None, rng) for _ in range(20)}) > 1  # clients spread out
    assert backoff.delay(10_000, None, rng) <= 30


def test_never_sooner_than_retry_after_and_only_a_little_later() -> None:
    rng = random.Random(1)
    assert all(5 <= Backoff().delay(1, 5.0, rng) <= 6 for _ in range(100))


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        ("0", 0.0),
        ("99999999999", MAX_RETRY_AFTER_S),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER_S),
        ("-1", None),
        ("1.5", None),
        ("²", None),
        ("soon", None),
        ("Mon, 99 Foo 2026", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_a_date_and_capped(header: str | None, seconds: float) -> None:
    assert retry_after_s(header, NOW) == seconds
