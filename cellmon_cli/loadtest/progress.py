"""The progress bar of a long load test: a redrawn line on a terminal, a line every few
seconds in a log."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from cellmon_cli.loadtest.stats import Tally, percentile

BAR_WIDTH = 24
LOG_EVERY_S = 10.0


def progress_line(tally: Tally, elapsed_s: float, total_s: float, width: int = BAR_WIDTH) -> str:
    """`[######------] 1:05/5:00  980 req/s  9,800 ev/s  p99 31 ms  non-2xx 0`. Pure."""
    done = min(max(elapsed_s / total_s, 0.0), 1.0) if total_s > 0 else 1.0
    filled = round(done * width)
    recent = tally.latencies[-2000:]  # the bar shows the latency of late, not of the whole run
    p99 = percentile(recent, 99)
    rate = tally.requests / elapsed_s if elapsed_s > 0 else 0.0
    events = tally.events_accepted / elapsed_s if elapsed_s > 0 else 0.0
    return (
        f"[{'#' * filled}{'-' * (width - filled)}] {_clock(elapsed_s)}/{_clock(total_s)}  "
        f"{rate:,.0f} req/s  {events:,.0f} ev/s  "
        f"p99 {'-' if p99 is None else f'{p99 * 1000:.0f}'} ms  non-2xx {tally.non_2xx}"
    )


class ProgressBar:
    """Redraws in place on a terminal; elsewhere prints a line every `LOG_EVERY_S`."""

    def __init__(self, total_s: float, out: TextIO | None = None) -> None:
        self.total_s, self.out = total_s, out or sys.stderr
        self._tty = self.out.isatty()
        self._last = 0.0

    def update(self, tally: Tally, elapsed_s: float) -> None:
        """The runner's progress callback."""
        line = progress_line(tally, elapsed_s, self.total_s)
        if self._tty:
            self.out.write(f"\r{line}")
        elif time.monotonic() - self._last >= LOG_EVERY_S:
            self._last = time.monotonic()
            self.out.write(f"{line}\n")
        self.out.flush()

    def finish(self) -> None:
        """End the redrawn line."""
        if self._tty:
            self.out.write("\n")
            self.out.flush()


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"
