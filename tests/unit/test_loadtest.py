"""`cellmon loadtest`, pure part: the events it sends, the figures it reports, its bar."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime

import orjson
import pytest

from cellmon.validation import Sender, parse_batch
from cellmon_cli.loadtest.events import StressEvents, probe_event
from cellmon_cli.loadtest.progress import ProgressBar, progress_line
from cellmon_cli.loadtest.runner import LoadPlan
from cellmon_cli.loadtest.stats import Tally, percentile, report, spread, table
from cellmon_cli.loadtest.wire import Endpoint

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_percentiles_are_nearest_rank_values_that_were_seen() -> None:
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (
        50.0,
        99.0,
        100.0,
    )
    assert percentile([0.3], 99) == 0.3
    assert percentile([], 50) is None
    assert spread([0.001, 0.002, 0.003]) == {
        "samples": 3,
        "p50_ms": 2.0,
        "p95_ms": 3.0,
        "p99_ms": 3.0,
        "max_ms": 3.0,
    }
    assert spread([])["p99_ms"] is None


def test_report_counts_events_and_every_kind_of_failure() -> None:
    tally = Tally()
    for _ in range(8):
        tally.answered(202, 0.010, events=10, accepted=10)
    tally.answered(503, 0.020, events=10, accepted=0)
    tally.failed("ConnectionResetError", events=10)
    tally.freshness += [0.05, 0.07]
    tally.probe_timeouts["help alert"] += 1
    result = report(tally, seconds=2.0, setup={"profile": "stress", "batch": 10})
    assert result["requests"] == 10
    assert result["requests_per_s"] == 5.0
    assert (result["events_sent"], result["events_accepted"], result["events_per_s"]) == (
        100,
        80,
        40.0,
    )
    assert result["status_codes"] == {"202": 8, "503": 1}
    assert result["non_2xx"] == 2
    assert result["transport_errors"] == {"ConnectionResetError": 1}
    assert result["freshness"]["samples"] == 2
    assert result["help_alert"]["samples"] == 0
    orjson.dumps(result)  # the --json output
    text = table(result)
    for words in ("batch 10", "HTTP 503: 1", "ConnectionResetError: 1", "help alert probe timed"):
        assert words in text


def test_stress_batches_are_valid_events_with_fresh_ids_and_realistic_size() -> None:
    source = StressEvents("room-1", 300, "run", random.Random(3))
    first, second = source.batch(100, NOW), source.batch(100, NOW)
    ids = {e["event_id"] for e in first + second}
    assert len(ids) == 200
    assert {e["student_id"] for e in first + second} <= {f"student-{n:04d}" for n in range(300)}
    parsed = parse_batch(first, sender=Sender("room-1"), received_at=NOW)
    assert (len(parsed.events), parsed.rejected) == (100, [])
    size = len(source.body(100, NOW)) / 100
    assert 250 < size < 450, size  # DESIGN measured with ~330-byte events


@pytest.mark.parametrize("kind", ["cell_executed", "help", "help_stop"])
def test_probe_events_are_valid(kind: str) -> None:
    body = orjson.loads(probe_event(kind, "room-1", "loadtest-probe", "probe-1", NOW))
    parsed = parse_batch(body, sender=Sender("room-1"), received_at=NOW)
    assert parsed.rejected == []
    assert parsed.events[0].type == kind


def test_progress_line_and_bar() -> None:
    tally = Tally()
    for _ in range(100):
        tally.answered(202, 0.02, events=1, accepted=1)
    line = progress_line(tally, elapsed_s=30, total_s=60, width=10)
    assert line.startswith("[#####-----] 0:30/1:00")
    assert "3 req/s" in line and "p99 20 ms" in line and "non-2xx 0" in line
    out = io.StringIO()  # not a terminal: whole lines, not redraws
    bar = ProgressBar(60, out)
    bar.update(tally, 1.0)
    bar.finish()
    assert out.getvalue().count("\n") == 1 and "\r" not in out.getvalue()


def test_endpoint_parsing() -> None:
    endpoint = Endpoint.parse("https://cells.example.edu/monitor/")
    assert (endpoint.host, endpoint.port, endpoint.tls, endpoint.prefix) == (
        "cells.example.edu",
        443,
        True,
        "/monitor",
    )
    assert Endpoint.parse("http://127.0.0.1:8000").host_header == "127.0.0.1:8000"
    with pytest.raises(ValueError, match="http"):
        Endpoint.parse("ftp://example.edu")


def test_plan_setup_names_only_what_applies_to_the_profile() -> None:
    classroom = LoadPlan("classroom", students=300, seconds=300, batch=100).setup(1)
    assert classroom["batch"] is None and classroom["speed"] == 1.0
    stress = LoadPlan("stress", students=300, seconds=60, batch=100, rate=50).setup(4)
    assert (stress["batch"], stress["rate"], stress["classrooms"]) == (100, 50, 4)
