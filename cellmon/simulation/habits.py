"""How simulated students behave: the existing system's load profile, and its pace."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta

from cellmon.simulation.lessons import Snippet

# The existing system's load profile; intervals are in class seconds (see `Pace`).
ERROR_RATE = 0.15  # with the hard cells, about 20% of runs fail
HARD_ERROR_RATE = 0.35
FIX_RATE = 0.85  # after an error, how often the student re-runs the same cell
RUN_ALL_RATE = 0.08  # of failing runs, how many were a "Run All" (later cells are aborted)
LONG_RUN_RATE = 0.04  # ordinary cells that still take seconds
SAVE_EVERY = (3, 6)  # runs between saves
STRUGGLE_ERRORS = (3, 5)  # errors in a row a struggler makes on a hard cell
HELP_MESSAGE_RATE = 0.7
FIRST_HELP_AFTER = 15.0  # so a short demo shows help requests early


@dataclass(frozen=True)
class Pace:
    """How often students act, in class seconds; `speed` compresses them (10 = ten times faster)."""

    speed: float = 1.0
    run_every: tuple[float, float] = (12.0, 18.0)
    heartbeat_every: float = 30.0
    help_every: tuple[float, float] = (90.0, 150.0)
    help_lasts: tuple[float, float] = (20.0, 90.0)

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"speed must be positive, got {self.speed}")

    def seconds(self, class_seconds: float) -> timedelta:
        """A class-time interval as real time at this speed."""
        return timedelta(seconds=class_seconds / self.speed)

    def between(self, rng: random.Random, bounds: tuple[float, float]) -> timedelta:
        """A uniformly random interval within `bounds` (class seconds), at this speed."""
        return self.seconds(rng.uniform(*bounds))


def kernel_ms(rng: random.Random, snippet: Snippet, *, failed: bool) -> float:
    """Kernel run time: errors fail fast, file reads and plots take seconds, the rest 5-300 ms."""
    if failed:
        ms = rng.uniform(1.0, 40.0)
    elif snippet.slow or rng.random() < LONG_RUN_RATE:
        ms = rng.uniform(400.0, 5000.0)
    else:
        ms = rng.lognormvariate(math.log(40.0), 0.8)
    return round(max(ms, 1.0), 1)


# Who is who in a class.
STRUGGLER_SHARE = 0.1  # get stuck on hard cells: 3 in a class of 30
HELP_ASKER_SHARE = 0.3  # strugglers and a few others: about 4 requests up at once in 30
RAMP_SHARE = 0.1  # students join over the first 10% of a timed run
RAMP_FOREVER_S = 20.0  # ... or over 20 s (at speed 1) when running until stopped
