"""`cellmon simulate`: options, a live status line, and a summary at the end."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable

from cellmon_cli.simulate.runner import run_class
from cellmon_cli.simulate.sender import SendStats, SimulationAborted

DEFAULT_URL = "http://127.0.0.1:8000"
STATUS_EVERY_S = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of `cellmon simulate` on `parser`."""
    parser.add_argument("--url", default=DEFAULT_URL, help=f"ingest base URL ({DEFAULT_URL})")
    parser.add_argument("--token", help="ingest token (default: $CELLMON_TOKEN)")
    parser.add_argument("--classroom", help="classroom id (default: $CELLMON_CLASSROOM)")
    parser.add_argument("--students", type=_positive(int), default=30, help="class size (30)")
    parser.add_argument(
        "--minutes", type=_positive(float), help="how long to run, in real minutes (until Ctrl-C)"
    )
    parser.add_argument(
        "--speed", type=_positive(float), default=1.0, help="time compression: 10 = 10x faster"
    )
    parser.add_argument("--seed", type=int, help="replay the same class (same students, events)")


def simulate_command(args: argparse.Namespace) -> int:
    """Run the simulated class the options describe; the process exit code."""
    token = args.token or os.environ.get("CELLMON_TOKEN")
    classroom = args.classroom or os.environ.get("CELLMON_CLASSROOM")
    if not token or not classroom:
        missing = (
            "--token (or CELLMON_TOKEN)" if not token else "--classroom (or CELLMON_CLASSROOM)"
        )
        print(f"cellmon simulate: {missing} is required", file=sys.stderr)
        return 2
    status = StatusLine()
    duration_s = None if args.minutes is None else args.minutes * 60.0
    print(f"simulating {args.students} students in {classroom} at {args.url} (speed {args.speed})")
    try:
        stats = asyncio.run(
            run_class(
                args.url,
                token,
                classroom,
                args.students,
                duration_s,
                args.speed,
                args.seed,
                on_progress=status.update,
            )
        )
    except KeyboardInterrupt:  # the students have already said goodbye (see run_class)
        stats = status.latest
        print("stopped")
    except SimulationAborted as error:
        print(f"cellmon simulate: {error}", file=sys.stderr)
        return 2
    print(f"done after {_elapsed(status.elapsed())}: {stats.line()}")
    return 0 if stats.failures == 0 and stats.rejected == 0 else 1


class StatusLine:
    """Prints the running totals at most every few seconds; remembers the latest."""

    def __init__(
        self,
        every_s: float = STATUS_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        out: Callable[[str], None] | None = None,
    ) -> None:
        self.latest = SendStats()
        self._every_s, self._clock, self._out = every_s, clock, out or _say
        self._started = self._last = clock()

    def update(self, stats: SendStats) -> None:
        """Progress callback for `run_class`."""
        self.latest = stats
        if self._clock() - self._last >= self._every_s:
            self._last = self._clock()
            self._out(f"[{_elapsed(self.elapsed())}] {stats.line()}")

    def elapsed(self) -> float:
        """Seconds since the status line was made."""
        return self._clock() - self._started


def _say(line: str) -> None:
    print(line, flush=True)  # piped into a log, the line still shows up as it happens


def _elapsed(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    """An argparse type that only accepts numbers above zero."""

    def parse(text: str) -> float:
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    parse.__name__ = getattr(kind, "__name__", "number")  # argparse names it in its errors
    return parse
