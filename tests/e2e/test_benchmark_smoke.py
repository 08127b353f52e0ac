"""The benchmark harness runs end to end (seconds-long runs, a small shard): every figure is
there and nothing failed. No timing is asserted; the numbers live in BENCHMARKS.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.report import render

pytestmark = pytest.mark.e2e


def test_benchmark_harness_smoke(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.ingest", "--smoke", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(out.read_text())

    assert [row["batch"] for row in figures["throughput"]] == [1, 10, 100]
    for row in figures["throughput"]:
        for path in ("baseline", "cellmon"):
            assert row[path]["non_2xx"] == 0, row
            assert row[path]["events_per_s"] > 0, row
    for path in ("baseline", "cellmon"):
        run = figures["classroom"][path]
        assert run["non_2xx"] == 0 and run["probe_timeouts"] == {}, run
        assert run["freshness"]["samples"] > 0 and run["help_alert"]["samples"] > 0, run
    stress = figures["stress"]
    for phase in ("calm", "overload"):
        run = stress["overload"][phase]
        assert run["all_2xx_logged"] and run["wrk"]["events_per_s"] > 0, run
        assert run["probe_samples"]["freshness"] > 0, run
    assert stress["applied_matches_log"] is True
    assert stress["creation"]["created"] == 3 and stress["creation"]["during"]["events_per_s"] > 0
    assert [step["students"] for step in figures["headline"]["steps"]] == [40]
    shard = figures["shard"]
    assert shard["students"] == 400 and shard["pss_loaded_mb"] > 0
    assert shard["restart_from_checkpoints_s"] > 0 and shard["restart_full_replay_s"] > 0
    assert "### Targets" in render(figures)
