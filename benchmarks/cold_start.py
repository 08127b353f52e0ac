"""Cold start of a shard holding 10,000 students: time until every classroom serves again.

Measured in one process against the real PostgreSQL, in a database of its own:
- checkpoint: the shard loads each classroom's checkpoint and replays the log after it
  (what a restarted shard does);
- baseline: the same shard with no checkpoints, replaying every classroom's whole log.

Usage: .venv/bin/python -m benchmarks.cold_start [--students 10000] [--events-per-student 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from pydantic import TypeAdapter

from actors.shard import Shard
from actors.stores.migrate import upgrade
from cellmon.contract import Event
from tests.support.fixtures import temporary_database

_EVENT: TypeAdapter[Any] = TypeAdapter(Event)
CLASS_SIZE = 200


def _events(classroom: str, students: int, per_student: int, rng: random.Random) -> list[Any]:
    start, events = datetime.now(UTC) - timedelta(hours=1), []
    for n in range(students * per_student):
        student, at = f"{classroom}-s{n % students:03d}", start + timedelta(milliseconds=n)
        status = "error" if rng.random() < 0.2 else "ok"
        events.append(
            _EVENT.validate_python(
                {
                    "type": "cell_executed",
                    "event_id": str(uuid.uuid4()),
                    "classroom_id": classroom,
                    "student_id": student,
                    "time": at,
                    "received_at": at,
                    "status": status,
                    "cell_id": f"cell-{n // students % 12}",
                    "cell_index": n // students % 12,
                    "code": "df = pd.read_csv('data.csv')",
                    "duration_ms": 12.0,
                    "error_name": "KeyError" if status == "error" else None,
                }
            )
        )
    return events


def _settings(dsn: str) -> dict[str, Any]:
    return {
        "significant_errors": 3,
        "store_url": dsn,
        "checkpoint_interval_s": 3600,
        "idle_unload_s": 3600,
    }


async def _fill(dsn: str, classrooms: list[str], per_student: int, tail: int) -> None:
    """Ingest every classroom's events, checkpoint, then ingest a tail after the checkpoint."""
    shard, rng = Shard(0, _settings(dsn)), random.Random(1)
    for classroom in classrooms:
        events = _events(classroom, CLASS_SIZE, per_student, rng)
        head, rest = events[: len(events) - tail], events[len(events) - tail :]
        for i in range(0, len(head), 500):
            await shard.ingest(classroom, head[i : i + 500])
        await shard.checkpoint_now()
        await shard.ingest(classroom, rest)
    await shard.store.close()


async def _serve_all(dsn: str, classrooms: list[str]) -> tuple[float, int]:
    """Seconds until a fresh shard has answered a snapshot of every classroom."""
    shard = Shard(0, _settings(dsn))
    started = time.perf_counter()
    snapshots = [await shard.snapshot(classroom) for classroom in classrooms]
    elapsed = time.perf_counter() - started
    await shard.store.close()
    return elapsed, sum(s["summary"]["students"] for s in snapshots)


async def _drop_checkpoints(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    await connection.execute("DELETE FROM checkpoints")
    await connection.close()


async def main(students: int, per_student: int, tail: int) -> dict[str, Any]:
    """Run both cold starts on the same log; returns the figures."""
    classrooms = [f"room{n:03d}" for n in range(students // CLASS_SIZE)]
    with temporary_database() as dsn:
        connection = await asyncpg.connect(dsn)
        await upgrade(connection)
        await connection.close()
        await _fill(dsn, classrooms, per_student, tail)
        with_checkpoints, served = await _serve_all(dsn, classrooms)
        await _drop_checkpoints(dsn)
        full_replay, served_again = await _serve_all(dsn, classrooms)
    assert served == served_again == students
    return {
        "students": students,
        "classrooms": len(classrooms),
        "events": students * per_student,
        "events_after_checkpoint": tail * len(classrooms),
        "cold_start_checkpoint_s": round(with_checkpoints, 3),
        "baseline_full_replay_s": round(full_replay, 3),
        "ratio_checkpoint_over_replay": round(with_checkpoints / full_replay, 3),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--events-per-student", type=int, default=20)
    parser.add_argument("--tail", type=int, default=200, help="events per classroom after it")
    args = parser.parse_args()
    print(
        json.dumps(asyncio.run(main(args.students, args.events_per_student, args.tail)), indent=2)
    )
