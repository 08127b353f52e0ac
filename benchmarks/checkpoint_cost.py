"""Cost of a busy classroom's checkpoint: every student ran one more cell since the last dump.
The dump that reuses the rows before (what a shard does) against the same dump from scratch
(what it did before), in the same run: the ratio is the figure, this machine being shared.

A checkpoint is converted on the shard's event loop, so its time is also how long a raised
hand arriving meanwhile waits.

Usage: .venv/bin/python -m benchmarks.checkpoint_cost [--students 300] [--cells 20] [--repeats 7]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from typing import Any

from actors.domain import checkpoint
from actors.domain.classroom import ClassroomActor
from benchmarks.apply_cost import cell_run

_ids = itertools.count()


def _run(student: int, cell: int) -> Any:
    return cell_run(next(_ids), cell, f"s{student}")


def dump_ms(students: int, cells: int, repeats: int, reuse: bool) -> float:
    """Median ms to dump the classroom after each student ran one more cell."""
    classroom = ClassroomActor("bench")
    # Every cell run a few times: a full timeline (50 runs) and `cells` cells each.
    classroom.apply_batch([_run(s, i % cells) for i in range(60) for s in range(students)])
    cache: checkpoint.DumpCache = {}
    checkpoint.dump(classroom, cache)
    times = []
    for repeat in range(repeats):
        classroom.apply_batch([_run(s, (repeat * 7 + s) % cells) for s in range(students)])
        if not reuse:
            cache.clear()
        started = time.perf_counter()
        checkpoint.dump(classroom, cache)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    shape = (args.students, args.cells, args.repeats)
    scratch, reused = dump_ms(*shape, reuse=False), dump_ms(*shape, reuse=True)
    print(f"| dump of {args.students} changed students, {args.cells} cells each | ms |")
    print("|---|---|")
    print(f"| from scratch (before) | {scratch:.1f} |")
    print(f"| reusing the rows before | {reused:.1f} |")
    print(f"| ratio | **{reused / scratch:.2f}** |")


if __name__ == "__main__":
    main()
