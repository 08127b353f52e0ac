"""What a load test measured, and how it is summarized. Pure: no clock, no I/O."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

PERCENTILES = (50, 95, 99)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (None without samples): a value that was actually seen."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def spread(values: Sequence[float], points: Sequence[float] = PERCENTILES) -> dict[str, Any]:
    """Sample count, then p50/p95/p99 (and max) in milliseconds from samples in seconds."""
    summary: dict[str, Any] = {"samples": len(values)}
    for p in points:
        summary[f"p{p:g}_ms"] = _ms(percentile(values, p))
    summary["max_ms"] = _ms(max(values) if values else None)
    return summary


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


@dataclass
class Tally:
    """Running counts of one load test; the load workers and probes write into it."""

    requests: int = 0
    events_sent: int = 0
    events_accepted: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, answered requests only
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    freshness: list[float] = field(default_factory=list)
    help_alerts: list[float] = field(default_factory=list)
    probe_timeouts: Counter[str] = field(default_factory=Counter)

    def answered(self, status: int, latency_s: float, events: int, accepted: int) -> None:
        """One request the server answered."""
        self.requests += 1
        self.events_sent += events
        self.events_accepted += accepted
        self.statuses[status] += 1
        self.latencies.append(latency_s)

    def failed(self, reason: str, events: int) -> None:
        """One request that got no answer (connection refused, reset, timed out)."""
        self.requests += 1
        self.events_sent += events
        self.transport_errors[reason] += 1

    @property
    def non_2xx(self) -> int:
        """Requests answered with anything but 2xx, plus those never answered."""
        bad = sum(n for status, n in self.statuses.items() if not 200 <= status < 300)
        return bad + sum(self.transport_errors.values())


def report(tally: Tally, seconds: float, setup: dict[str, Any]) -> dict[str, Any]:
    """The JSON report of a run that lasted `seconds` (the measured window, ramp included)."""
    seconds = max(seconds, 1e-9)
    return {
        **setup,
        "seconds": round(seconds, 2),
        "requests": tally.requests,
        "requests_per_s": round(tally.requests / seconds, 1),
        "events_sent": tally.events_sent,
        "events_accepted": tally.events_accepted,
        "events_per_s": round(tally.events_accepted / seconds, 1),
        "latency": spread(tally.latencies),
        "status_codes": {str(code): n for code, n in sorted(tally.statuses.items())},
        "non_2xx": tally.non_2xx,
        "transport_errors": dict(tally.transport_errors),
        "freshness": spread(tally.freshness),
        "help_alert": spread(tally.help_alerts),
        "probe_timeouts": dict(tally.probe_timeouts),
    }


def table(result: dict[str, Any]) -> str:
    """The report as a short table for a terminal."""
    rows = [
        ("profile", _setup_line(result)),
        (
            "requests/s",
            f"{result['requests_per_s']:,.1f}  ({result['requests']:,} in "
            f"{result['seconds']:.0f} s)",
        ),
        (
            "events/s",
            f"{result['events_per_s']:,.1f}  ({result['events_accepted']:,} accepted "
            f"of {result['events_sent']:,} sent)",
        ),
        ("latency", _spread_line(result["latency"])),
        ("freshness", _spread_line(result["freshness"]) + "  (POST to visible in snapshot)"),
        ("help alert", _spread_line(result["help_alert"]) + "  (POST to Redis subscriber)"),
        ("non-2xx", _errors_line(result)),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def _setup_line(result: dict[str, Any]) -> str:
    keys = ("profile", "students", "classrooms", "batch", "concurrency", "rate")
    return "  ".join(f"{key} {result[key]}" for key in keys if result.get(key) is not None)


def _spread_line(summary: dict[str, Any]) -> str:
    if not summary["samples"]:
        return "no samples"
    return (
        f"p50 {summary['p50_ms']} ms  p95 {summary['p95_ms']} ms  p99 {summary['p99_ms']} ms  "
        f"max {summary['max_ms']} ms  ({summary['samples']:,} samples)"
    )


def _errors_line(result: dict[str, Any]) -> str:
    bad = {code: n for code, n in result["status_codes"].items() if not code.startswith("2")}
    parts = [f"HTTP {code}: {n}" for code, n in bad.items()]
    parts += [f"{reason}: {n}" for reason, n in result["transport_errors"].items()]
    parts += [f"{what} probe timed out: {n}" for what, n in result["probe_timeouts"].items()]
    return f"{result['non_2xx']}" + (f"  ({', '.join(parts)})" if parts else "")
