"""InfluxWriter against the real InfluxDB on 127.0.0.1:8086 (`scripts/influxdb.sh start`)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from actors.adapters.influx.lines import activity_point, cell_point, epoch_ms, help_point
from actors.adapters.influx.query import influxql_string, query
from actors.adapters.influx.target import InfluxTarget, parse_influx_url
from actors.adapters.influx.writer import InfluxWriter, from_url
from cellmon.contract import CellExecuted
from tests.support.private_postgres import free_port
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def influx(influx_url: str) -> InfluxTarget:
    return parse_influx_url(influx_url)


@pytest.fixture
async def classroom(influx: InfluxTarget) -> AsyncIterator[str]:
    """A classroom id unique to this test run, with characters that need escaping."""
    name = f"it room {uuid.uuid4().hex[:10]}, group=A"
    yield name
    await query(
        influx.url, influx.database, f"DROP SERIES WHERE classroom = {influxql_string(name)}"
    )


async def rows(influx: InfluxTarget, influxql: str) -> list[dict[str, Any]]:
    return await query(influx.url, influx.database, influxql, epoch="ms")


def cell_events(classroom: str, n: int, start: datetime) -> list[CellExecuted]:
    statuses = ["ok", "ok", "error", "aborted"]
    return [
        CellExecuted(
            event_id=f"ev-{uuid.uuid4()}",
            classroom_id=classroom,
            student_id=f"student {i % 7}",
            time=start + timedelta(milliseconds=37 * i),
            notebook_path="lab1.ipynb",
            cell_index=i,
            status=statuses[i % 4],
            error_name="Name Error, x=1" if statuses[i % 4] == "error" else None,
            duration_ms=None if statuses[i % 4] == "aborted" else 1.5 * i,
        )
        for i in range(n)
    ]


async def test_a_batch_comes_back_exactly_through_influxql(
    influx_url: str, influx: InfluxTarget, classroom: str
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    events = cell_events(classroom, 40, start)
    writer = from_url(influx_url, flush_interval_s=0.05)
    writer.start()
    for ev in events:
        writer.add(cell_point(ev) or "")
    writer.add(help_point(classroom, "student 3", "raised", start))
    writer.add(help_point(classroom, "student 3", "withdrawn", start + timedelta(seconds=90), 90.0))
    minute = start + timedelta(seconds=30)
    writer.add(activity_point(classroom, minute, 40, 10, 1, 7))
    # the background task writes them without being asked
    await async_wait_until(lambda: writer.counters["written"] == 43)
    await writer.close()
    assert writer.counters | {"retried": 0} == {
        "added": 43,
        "written": 43,
        "retried": 0,
        "dropped": 0,
        "rejected": 0,
        "buffered": 0,
        "in_flight": 0,
    }

    where = f"WHERE classroom = {influxql_string(classroom)}"
    got = await rows(influx, f"SELECT * FROM cell_execution {where}")
    assert len(got) == 40
    expected = [
        {
            "measurement": "cell_execution",
            "time": epoch_ms(ev.time),
            "classroom": classroom,
            "status": ev.status,
            "error_name": ev.error_name,
            "student": ev.student_id,
            "cell_index": ev.cell_index,
            "duration_ms": ev.duration_ms,
            "count": 1,
        }
        for ev in events
    ]
    assert sorted(got, key=lambda r: r["time"]) == expected

    per_status = await rows(
        influx, f'SELECT sum("count") FROM cell_execution {where} GROUP BY status'
    )
    assert {r["status"]: r["sum"] for r in per_status} == {"ok": 20, "error": 10, "aborted": 10}

    tag_keys = {r["tagKey"] for r in await rows(influx, "SHOW TAG KEYS FROM cell_execution")}
    assert {"classroom", "status", "error_name"} <= tag_keys
    assert "student" not in tag_keys

    helps = await rows(influx, f"SELECT kind, student, waited_s FROM help {where}")
    assert [(r["kind"], r["student"], r["waited_s"]) for r in helps] == [
        ("raised", "student 3", None),
        ("withdrawn", "student 3", 90.0),
    ]
    activity = await rows(influx, f"SELECT * FROM classroom_activity {where}")
    assert [
        {k: r[k] for k in ("time", "executions", "errors", "help", "active_students")}
        for r in activity
    ] == [
        {
            "time": epoch_ms(minute) // 60_000 * 60_000,
            "executions": 40,
            "errors": 10,
            "help": 1,
            "active_students": 7,
        }
    ]


async def test_a_full_buffer_keeps_the_newest_lines(influx: InfluxTarget, classroom: str) -> None:
    events = cell_events(classroom, 150, datetime.now(UTC) - timedelta(minutes=1))
    writer = InfluxWriter(influx.url, influx.database, max_buffer=100, flush_interval_s=0.05)
    for ev in events:  # before start(): nothing is sent yet
        writer.add(cell_point(ev) or "")
    assert writer.counters["buffered"] == 100
    assert writer.counters["dropped"] == 50
    writer.start()
    await async_wait_until(lambda: writer.counters["written"] == 100)
    await writer.close()
    got = await rows(
        influx,
        f"SELECT cell_index FROM cell_execution WHERE classroom = {influxql_string(classroom)}",
    )
    assert sorted(r["cell_index"] for r in got) == list(range(50, 150))


async def test_an_outage_never_blocks_the_caller_and_counts_every_lost_line(
    classroom: str,
) -> None:
    writer = InfluxWriter(
        f"http://127.0.0.1:{free_port()}",
        max_buffer=2_000,
        batch_size=500,
        flush_interval_s=0.01,
        max_retries=3,
        retry_base_s=0.01,
        retry_max_s=0.05,
    )
    writer.start()
    lines = [
        cell_point(ev) or ""
        for ev in cell_events(classroom, 10_000, datetime.now(UTC) - timedelta(hours=1))
    ]
    slowest = 0.0
    largest_buffer = 0
    began = time.perf_counter()
    for line in lines:
        t = time.perf_counter()
        writer.add(line)
        slowest = max(slowest, time.perf_counter() - t)
        largest_buffer = max(largest_buffer, writer.counters["buffered"])
    elapsed = time.perf_counter() - began
    assert elapsed < 1.0, f"10,000 add() calls took {elapsed:.2f}s"
    assert slowest < 0.01
    assert largest_buffer == 2_000
    assert writer.counters["dropped"] == 8_000  # the oldest, at once

    # while the writer retries, the event loop stays responsive
    lags = []
    for _ in range(20):
        t = time.perf_counter()
        await asyncio.sleep(0.01)  # the measured thing: how late a 10 ms sleep wakes
        lags.append(time.perf_counter() - t)
    assert max(lags) < 0.25

    # the 2,000 kept lines go out as 4 batches of 500, each tried 1 + 3 times, then dropped
    await async_wait_until(lambda: writer.counters["dropped"] == 10_000)
    await writer.close(timeout_s=2)
    assert writer.counters == {
        "added": 10_000,
        "written": 0,
        "retried": 4 * 3,
        "dropped": 10_000,
        "rejected": 0,
        "buffered": 0,
        "in_flight": 0,
    }
    assert writer.last_error is not None and "ConnectError" in writer.last_error
    writer.add(lines[0])  # after close: counted, never raises
    assert writer.counters["dropped"] == 10_001


async def test_close_during_an_outage_returns_within_its_timeout(classroom: str) -> None:
    writer = InfluxWriter(f"http://127.0.0.1:{free_port()}", flush_interval_s=0.01, retry_base_s=30)
    for ev in cell_events(classroom, 10, datetime.now(UTC)):
        writer.add(cell_point(ev) or "")
    writer.start()
    await async_wait_until(lambda: writer.counters["retried"] == 1)  # now in a 15-30 s backoff
    began = time.perf_counter()
    await writer.close(timeout_s=0.5)
    assert time.perf_counter() - began < 2.0
    assert writer.counters["dropped"] == 10
    assert writer.counters["in_flight"] == writer.counters["buffered"] == 0


async def test_refused_lines_are_dropped_and_counted_and_writing_goes_on(
    influx: InfluxTarget, classroom: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="actors.adapters.influx.writer")
    start = datetime.now(UTC) - timedelta(minutes=2)
    good = [cell_point(ev) or "" for ev in cell_events(classroom, 5, start)]
    writer = InfluxWriter(influx.url, influx.database, flush_interval_s=0.05)
    writer.start()

    writer.add("this is not line protocol")
    await async_wait_until(lambda: writer.counters["dropped"] == 1)
    assert writer.counters["rejected"] == 1
    assert writer.counters["retried"] == 0  # a 4xx is not retried
    assert writer.last_error is not None and "unable to parse" in writer.last_error

    writer.add_many(good[:2])  # the next, good batch is written
    await async_wait_until(lambda: writer.counters["written"] == 2)

    # InfluxDB 1.x stores the valid lines of a partly bad batch: only the bad ones are lost
    await writer.flush()
    writer.add_many([good[2], "another bad=line=", good[3], good[4]])
    await writer.flush()
    await writer.close()
    assert writer.counters["written"] == 5
    assert writer.counters["dropped"] == writer.counters["rejected"] == 2
    got = await rows(
        influx,
        f"SELECT cell_index FROM cell_execution WHERE classroom = {influxql_string(classroom)}",
    )
    assert sorted(r["cell_index"] for r in got) == [0, 1, 2, 3, 4]
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1  # the reason is logged once, later refusals are only counted


async def test_query_reports_influxql_errors(influx: InfluxTarget) -> None:
    from actors.adapters.influx.query import InfluxQueryError

    with pytest.raises(InfluxQueryError, match="error parsing query"):
        await query(influx.url, influx.database, "SELEC nonsense")
    with pytest.raises(InfluxQueryError, match="database not found"):
        await query(influx.url, f"missing_{uuid.uuid4().hex[:8]}", "SELECT * FROM x")
