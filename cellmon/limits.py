"""Every bound on what a class may send and what the actors keep, in one place. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds per request, per event, per classroom and per student (set from `Settings`).

    A request or item past a bound is refused with a reason the client can show; nothing past
    a bound may turn into a 5xx, a slowdown for other classrooms, or unbounded memory.
    """

    # One request.
    max_batch: int = 500
    max_body_bytes: int = 4 * 1024 * 1024
    # One event on the wire: longer code is truncated and flagged, longer texts are cut.
    max_code_chars: int = 64_000
    max_error_chars: int = 2_000
    # Times: the offline spool legitimately sends events late; a clock may run a little fast.
    max_event_age: timedelta = timedelta(days=30)
    max_event_ahead: timedelta = timedelta(days=1)
    # Integers: realistic notebooks and kernels, far inside 64 bits (PostgreSQL, InfluxDB).
    max_cell_index: int = 100_000
    max_execution_count: int = 1_000_000_000
    max_duration_ms: float = 7 * 24 * 3600 * 1000.0
    # What the actors keep.
    students_per_classroom: int = 2_000
    cells_per_student: int = 2_000
    notebooks_per_student: int = 100
    help_history: int = 20
    timeline: int = 50
    kept_code_chars: int = 4_000
    kept_error_chars: int = 1_000
    # What a snapshot carries: the cells most students are failing now.
    error_cells: int = 20
    # Instructors' messages a classroom keeps (to one student or to all), newest last.
    messages: int = 200


DEFAULT_LIMITS = Limits()

# A classroom's retention period: ten years at most (a datetime can hold the cutoff, and the
# registry's integer column the number).
RETENTION_DAYS_MAX = 3650
