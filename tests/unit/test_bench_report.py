"""BENCHMARKS.md's generated section: every figure next to its baseline, targets judged, and
the hand-written text around the markers kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.report import BEGIN, END, render, update

pytestmark = pytest.mark.unit


def _path(rps: float, eps: float, p99: float) -> dict[str, Any]:
    return {"requests_per_s": rps, "events_per_s": eps, "p50_ms": 5.0, "p99_ms": p99, "non_2xx": 0}


def _spread(p99: float) -> dict[str, Any]:
    return {"samples": 60, "p50_ms": p99 / 2, "p95_ms": p99, "p99_ms": p99, "max_ms": p99}


def _classroom(fresh: float, alert: float) -> dict[str, Any]:
    return {
        "students": 300,
        "seconds": 60.0,
        "requests_per_s": 25.0,
        "events_per_s": 26.0,
        "latency": _spread(20.0),
        "freshness": _spread(fresh),
        "help_alert": _spread(alert),
        "non_2xx": 0,
    }


FIGURES: dict[str, Any] = {
    "when": "2026-11-27 18:00 UTC",
    "command": "make bench",
    "machine": {
        "cores": 2,
        "memory_gib": 24,
        "python": "3.11.7",
        "ray": "2.60.0",
        "load_average": [2.1, 2.0, 1.5],
    },
    "settings": {
        "seconds": 20.0,
        "warmup_s": 3.0,
        "rounds": 2,
        "concurrency": 16,
        "students": 300,
        "classrooms": 4,
        "serve": "direct ingress",
    },
    "throughput": [
        {"batch": 1, "baseline": _path(450, 450, 90), "cellmon": _path(1200, 1200, 40)},
        {"batch": 100, "baseline": _path(70, 7000, 900), "cellmon": _path(62, 6200, 500)},
    ],
    "classroom": {"baseline": _classroom(30, 10), "cellmon": _classroom(120, 300)},
    "headline": {
        "students": 2_000,
        "steps": [
            {
                "students": n,
                "classrooms": n // 300 + 1,
                "events_per_s": n / 10,
                "latency_p99_ms": 50,
                "freshness_p99_ms": fresh,
                "help_alert_p99_ms": 100,
                "non_2xx": 0,
                "generator_cpu_share": 0.3,
                "met": fresh <= 1000,
            }
            for n, fresh in ((1_000, 300), (2_000, 800), (4_000, 4_800))
        ],
    },
    "stress": {
        "overload": {
            "batch": 10,
            "seconds": 60.0,
            "calm": {
                "wrk": {"events_per_s": 3000, "busy": 0, "non_2xx": 0, "p50_ms": 40, "p99_ms": 90},
                "offered_per_s": 300,
                "accepted_p50_ms": 30,
                "accepted_p99_ms": 80,
                "freshness_p99_ms": 150,
                "help_alert_p99_ms": 40,
                "all_2xx_logged": True,
            },
            "overload": {
                "wrk": {
                    "connections": 256,
                    "events_per_s": 2900,
                    "busy": 5000,
                    "non_2xx": 5000,
                    "p50_ms": 9,
                    "p99_ms": 400,
                },
                "offered_per_s": 620,
                "offered_x": 2.07,
                "accepted_p50_ms": 200,
                "accepted_p99_ms": 900,
                "freshness_p99_ms": 950,
                "help_alert_p99_ms": 300,
                "all_2xx_logged": True,
            },
        },
        "applied_matches_log": True,
        "creation": {
            "new_classrooms": 20,
            "created": 20,
            "creation_s": 12.5,
            "alone": {"events_per_s": 3000, "sampled_p99_ms": 80, "sampled_max_ms": 120.4},
            "during": {"events_per_s": 2700, "sampled_p99_ms": 150, "sampled_max_ms": 400.2},
            "ratio": 0.9,
        },
    },
    "shard": {
        "students": 10_000,
        "classrooms": 50,
        "events": 100_000,
        "pss_empty_mb": 100.0,
        "pss_loaded_mb": 180.0,
        "pss_ratio": 1.8,
        "restart_process_s": 1.5,
        "restart_first_classroom_s": 0.3,
        "restart_from_checkpoints_s": 4.2,
        "restart_full_replay_s": 12.0,
        "restart_ratio": 0.35,
    },
}


def test_render_sets_each_figure_beside_its_baseline_and_judges_the_targets() -> None:
    text = render(FIGURES)
    assert text.startswith(BEGIN) and text.rstrip().endswith(END)
    assert "by `make bench`" in text and "2 cores, 24 GiB" in text
    assert "| 100 | 70 | 62 | 7,000 | 6,200 | 0.89 |" in text
    assert "1,200 req/s, p99 40 ms | yes |" in text
    assert "6,200 events/s; baseline 7,000 | **no** |" in text
    assert "freshness p99 <= 500 ms at 300 students | 120 ms | yes |" in text
    assert "help alert p99 <= 250 ms at 300 students | 300 ms | **no** |" in text
    assert "| shard memory (PSS) | 180 MB | 100 MB empty | 1.80 |" in text
    assert "| 4.20 s | 12.00 s replaying the whole log | 0.35 |" in text
    assert "1.50 s passed before the new process answered" in text
    assert "| the first classroom <= 1 s after the new process starts | 0.30 s | yes |" in text
    assert "one 2-core machine: **2,000**" in text
    assert "| 4,000 | 14 | 400 | 50 | 4800 | 100 | 0 | 30% | **no** |" in text
    assert "| offered 2.07x capacity" in text
    assert "help alert 300 ms, 5,000 answered 429/503 |" in text
    assert "| answered 429/503 (come back later) | 0 | 5,000 |" in text
    assert "| help alert p99 ms | 40 | 300 |" in text and "| **no** |" in text
    assert "| existing classrooms, events/s | 3,000 | 2,700 | 0.90 |" in text
    assert "keeps >= 0.8 of the ingest for the others | 0.90 | yes |" in text


def test_update_replaces_only_the_generated_section(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nIntro by hand.\n")
    update(path, render(FIGURES))
    update(path, render({**FIGURES, "when": "later"}))
    text = path.read_text()
    assert text.count(BEGIN) == 1 and "Generated later" in text and "Intro by hand." in text
    path.write_text(text + "\n## Written by hand after\n")
    update(path, render(FIGURES))
    assert path.read_text().endswith("## Written by hand after\n")
