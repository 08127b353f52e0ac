"""Removing one student's points from InfluxDB 1.x, where a student id is a field, not a tag;
and a classroom's points older than its retention.

InfluxDB 1.x deletes by tag and time only. So, for each measurement that names students, the
classroom's other points are copied aside, the classroom's points are deleted (by its tag), and
the copy is written back. The shard holds the classroom still while this runs and has flushed
its buffered lines first, so no point of the classroom is written between the copy and the
delete. `classroom_activity` holds counts per minute, no student: it is left as it is.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from actors.adapters.influx.lines import CELL_EXECUTION, CLASSROOM_ACTIVITY, HELP, epoch_ms
from actors.adapters.influx.query import influxql_string, query

STUDENT_MEASUREMENTS = (CELL_EXECUTION, HELP)
# Every time InfluxDB can store: without a range, SELECT ... INTO stops at now().
_ALL_TIME = "time >= -9223372036854775806 AND time <= 9223372036854775806"


async def forget_student(url: str, database: str, classroom_id: str, student_id: str) -> int:
    """Delete the student's points of the classroom; how many went."""
    room, who = influxql_string(classroom_id), influxql_string(student_id)
    removed = 0
    for measurement in STUDENT_MEASUREMENTS:
        theirs = await query(
            url,
            database,
            f'SELECT count("student") FROM "{measurement}"'
            f" WHERE classroom = {room} AND student = {who} AND {_ALL_TIME}",
        )
        count = sum(int(row["count"]) for row in theirs)
        if not count:
            continue
        aside = f"{measurement}_forget_{uuid.uuid4().hex[:12]}"
        await query(
            url,
            database,
            f'SELECT * INTO "{aside}" FROM "{measurement}"'
            f" WHERE classroom = {room} AND student != {who} AND {_ALL_TIME} GROUP BY *",
        )
        await query(url, database, f'DELETE FROM "{measurement}" WHERE classroom = {room}')
        await query(
            url,
            database,
            f'SELECT * INTO "{measurement}" FROM "{aside}" WHERE {_ALL_TIME} GROUP BY *',
        )
        await query(url, database, f'DROP MEASUREMENT "{aside}"')
        removed += count
    return removed


async def purge_before(url: str, database: str, classroom_id: str, before: datetime) -> None:
    """Retention: delete the classroom's points (every measurement) timed before `before`."""
    room = influxql_string(classroom_id)
    cutoff = epoch_ms(before) * 1_000_000
    for measurement in (*STUDENT_MEASUREMENTS, CLASSROOM_ACTIVITY):
        await query(
            url,
            database,
            f'DELETE FROM "{measurement}" WHERE classroom = {room} AND time < {cutoff}',
        )
