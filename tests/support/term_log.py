"""A term of logged cell runs written straight into the event log (COPY), for reads of
history at a size no test could post: `total` events from 2026-09-01, one a second, for
`students` students in turn; every seventh an error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg

TERM_START = datetime(2026, 9, 1, tzinfo=UTC)


def errors_among(total: int) -> int:
    """How many of the first `total` events are errors."""
    return len(range(0, total, 7))


async def fill(dsn: str, classroom_id: str, total: int, students: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(
            "events",
            columns=[
                *("classroom_id", "event_id", "student_id", "type", "time"),
                *("received_at", "payload"),
            ],
            records=(
                (
                    classroom_id,
                    f"e{n}",
                    f"s{n % students}",
                    "cell_executed",
                    TERM_START + timedelta(seconds=n),
                    TERM_START + timedelta(seconds=n),
                    json.dumps({"status": "error" if n % 7 == 0 else "ok", "cell_index": n % 9}),
                )
                for n in range(total)
            ),
        )
    finally:
        await connection.close()
