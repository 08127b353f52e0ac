"""How long a sign-in must wait after failed passwords. Pure: the caller keeps the counts.

Counted per account and per client: guessing one account's password, or many accounts' from
one machine, slows down the same way. The first few failures cost nothing (people mistype),
then each one doubles the wait, up to a ceiling.
"""

from __future__ import annotations

from datetime import datetime, timedelta

FREE_FAILURES = 5
FIRST_WAIT = timedelta(seconds=2)
LONGEST_WAIT = timedelta(minutes=15)


def locked_until(failures: int, now: datetime) -> datetime | None:
    """When sign-ins may be tried again after `failures` in a row; None while still free."""
    if failures < FREE_FAILURES:
        return None
    doublings = min(failures - FREE_FAILURES, 20)
    return now + min(FIRST_WAIT * (1 << doublings), LONGEST_WAIT)
