"""A simulated class: who struggles, who asks for help, and when each student joins."""

from __future__ import annotations

import random
from collections.abc import Sequence

from cellmon.simulation.habits import (
    HELP_ASKER_SHARE,
    RAMP_FOREVER_S,
    RAMP_SHARE,
    STRUGGLER_SHARE,
    Pace,
)
from cellmon.simulation.notebook import Notebook, default_course
from cellmon.simulation.roster import make_roster
from cellmon.simulation.script import SimulatedStudent


def plan_class(
    classroom_id: str,
    students: int,
    rng: random.Random,
    *,
    pace: Pace | None = None,
    course: Sequence[Notebook] | None = None,
) -> list[SimulatedStudent]:
    """The students of one class, each with its own rng drawn from `rng` (same seed, same class)."""
    strugglers = set(rng.sample(range(students), _share(students, STRUGGLER_SHARE)))
    others = [i for i in range(students) if i not in strugglers]
    extra = max(0, min(len(others), round(students * HELP_ASKER_SHARE) - len(strugglers)))
    askers = strugglers | set(rng.sample(others, extra))
    return [
        SimulatedStudent(
            who,
            classroom_id,
            course or default_course(),
            random.Random(rng.getrandbits(64)),  # independent of the other students' timing
            pace=pace,
            struggler=i in strugglers,
            asks_for_help=i in askers,
        )
        for i, who in enumerate(make_roster(students))
    ]


def _share(students: int, share: float) -> int:
    """`share` of the class, rounded, but at least one in a class of five or more."""
    count = round(students * share)
    return max(count, 1) if students >= 5 else count


def ramp_seconds(duration_s: float | None, speed: float = 1.0) -> float:
    """Real seconds over which students join: 10% of a timed run, else 20 s at speed 1."""
    if duration_s is not None:
        return RAMP_SHARE * duration_s
    return RAMP_FOREVER_S / speed


def join_offsets(students: int, ramp_s: float, rng: random.Random) -> list[float]:
    """When each student joins, in seconds from the start: spread evenly over the ramp, jittered."""
    return [ramp_s * (i + rng.random()) / students for i in range(students)]
