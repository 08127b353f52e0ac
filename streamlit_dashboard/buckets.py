"""The activity chart's buckets: per-minute counts summed into 5-minute, 1-hour or 4-hour
buckets, as the existing dashboard showed them. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cellmon.views import ActivityMinute


def bucketed(
    rows: Sequence[ActivityMinute], bucket: int, now: datetime, minutes: int
) -> list[dict[str, Any]]:
    """Per-minute rows summed into `bucket`-minute buckets covering the last `minutes`."""
    step = timedelta(minutes=bucket)
    first = now - timedelta(minutes=minutes)
    start = first - timedelta(
        minutes=first.minute % bucket, seconds=first.second, microseconds=first.microsecond
    )
    out = []
    while start <= now:
        inside = [r for r in rows if start <= datetime.fromisoformat(r["minute"]) < start + step]
        out.append(
            {
                "time": start.isoformat(),
                **{k: sum(r[k] for r in inside) for k in ("executions", "errors", "help")},
            }
        )
        start += step
    return out
