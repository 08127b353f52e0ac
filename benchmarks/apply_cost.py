"""Cost of one cell-run event for a student who has run 10 cells against one who has run
10,000, in the same run (the ratio is the figure; this machine is shared and noisy). The
whole-map copy that the state did per event before its persistent map is timed beside it.

Usage: .venv/bin/python -m benchmarks.apply_cost [--events 20000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from actors.domain.classroom import ClassroomActor
from cellmon.contract import Event
from cellmon.limits import Limits

_EVENT: TypeAdapter[Any] = TypeAdapter(Event)
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
SIZES = (10, 10_000)


def cell_run(i: int, cell: int, student: str = "s1") -> Any:
    """The `i`th cell run of the benchmarks' classroom: `student` runs `cell`; every third fails."""
    when = T0 + timedelta(milliseconds=i)
    return _EVENT.validate_python(
        {
            "type": "cell_executed",
            "event_id": f"e{i}",
            "classroom_id": "bench",
            "student_id": student,
            "time": when,
            "received_at": when,
            "notebook_path": "lab.ipynb",
            "cell_id": f"cell-{cell}",
            "cell_index": cell,
            "status": "error" if i % 3 == 0 else "ok",
            "code": "df = load('data.csv')",
        }
    )


def per_event_us(cells: int, events: int, repeats: int) -> float:
    """Median µs to apply one run, to a student who already has `cells` cells, over the cells."""
    limits = Limits(cells_per_student=cells)
    times = []
    for repeat in range(repeats):
        classroom = ClassroomActor("bench", limits=limits)
        classroom.apply_batch([cell_run(i, i) for i in range(cells)])
        base = cells + repeat * events
        batch = [cell_run(base + i, i % cells) for i in range(events)]
        started = time.perf_counter()
        classroom.apply_batch(batch)
        times.append((time.perf_counter() - started) / events * 1e6)
    return statistics.median(times)


def copy_us(cells: int, repeats: int) -> float:
    """Median µs of copying a `cells`-entry map once (the per-event cost of the old state)."""
    cell_map = {f"lab.ipynb::cell-{i}": i for i in range(cells)}
    loops = max(10, 200_000 // cells)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(loops):
            _ = {**cell_map, "lab.ipynb::cell-0": 1}
        times.append((time.perf_counter() - started) / loops * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    applied = {n: per_event_us(n, args.events, args.repeats) for n in SIZES}
    copied = {n: copy_us(n, args.repeats) for n in SIZES}
    small, large = SIZES
    print("| cells the student has run | apply one run (µs) | copying the cell map once (µs) |")
    print("|---|---|---|")
    for n in SIZES:
        print(f"| {n:,} | {applied[n]:.1f} | {copied[n]:.1f} |")
    ratio, copy_ratio = applied[large] / applied[small], copied[large] / copied[small]
    print(f"| ratio {large:,} / {small:,} | **{ratio:.2f}** (target ≤ 1.5) | {copy_ratio:.0f} |")


if __name__ == "__main__":
    main()
