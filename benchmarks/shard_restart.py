"""A shard actor holding 10,000 students: its memory, and how long until it serves again
after `kill -9` (Ray restarts the process; the shard reloads its classrooms).

Baselines, in the same run: the same shard's memory when empty, and the restart with its
checkpoints deleted (rebuilding every classroom from the whole event log).
Runs inside a connected Ray cluster (see `benchmarks.ingest`), against a PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
from pydantic import TypeAdapter

from actors.adapters.stores.migrate import upgrade
from cellmon.contract import Event
from cellmon.settings import Settings
from tests.support.private_postgres import run_blocking

if TYPE_CHECKING:
    from actors.runtime.client import ActorClient

_EVENT: TypeAdapter[Any] = TypeAdapter(Event)
CLASS_SIZE = 200
CHUNK = 500


def events(classroom: str, students: int, per_student: int, rng: random.Random) -> list[Any]:
    """`per_student` cell runs for each student of a classroom, a fifth of them errors."""
    start, made = datetime.now(UTC) - timedelta(hours=1), []
    for n in range(students * per_student):
        at = start + timedelta(milliseconds=n)
        failed = rng.random() < 0.2
        made.append(
            _EVENT.validate_python(
                {
                    "type": "cell_executed",
                    "event_id": str(uuid.uuid4()),
                    "classroom_id": classroom,
                    "student_id": f"{classroom}-s{n % students:03d}",
                    "student_name": f"Student {n % students}",
                    "team": f"team-{n % students // 5}",
                    "time": at,
                    "received_at": at,
                    "notebook_path": "lesson-03/regression.ipynb",
                    "status": "error" if failed else "ok",
                    "cell_id": f"cell-{n // students % 12}",
                    "cell_index": n // students % 12,
                    "code": "df = pd.read_csv('data.csv')\ndf.groupby('team').mean()",
                    "duration_ms": 12.0,
                    "error_name": "KeyError" if failed else None,
                }
            )
        )
    return made


def pss_mb(pid: int) -> float:
    """Proportional set size of a process (its own memory plus its share of shared pages)."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no Pss line for pid {pid}")


def measure(dsn: str, students: int = 10_000, per_student: int = 10) -> dict[str, Any]:
    """Fill one shard with `students`, then kill it twice: with and without checkpoints."""
    from actors.runtime.client import ActorClient, blocking

    run_blocking(lambda: _migrate(dsn))
    rooms = [f"room{n:03d}" for n in range(max(students // CLASS_SIZE, 1))]
    settings = Settings(
        namespace=f"bench-shard-{uuid.uuid4().hex[:6]}",
        store_url=dsn,
        shards_min=1,
        shards_max=1,
        classrooms_per_shard=len(rooms),
        checkpoint_interval_s=3600.0,
        idle_unload_s=36_000.0,
        influx_url=None,
        alerts_url="memory://",
    )
    client = blocking(ActorClient.deploy(settings), timeout_s=120)
    for room in rooms:
        blocking(client.create_classroom(room, room))
    size = min(students, CLASS_SIZE)
    empty = pss_mb(blocking(client.shard_stats(rooms[0]))["pid"])
    rng = random.Random(7)
    for room in rooms:
        batch = events(room, size, per_student, rng)
        chunks = [batch[i : i + CHUNK] for i in range(0, len(batch), CHUNK)]
        blocking(client.ingest_batches(room, chunks), timeout_s=300)
    blocking(client.checkpoint(rooms[0]))  # before measuring: a shard keeps its last dump's rows
    stats = blocking(client.shard_stats(rooms[0]))
    loaded = pss_mb(stats["pid"])
    process_back, first_room, from_checkpoints = _restart(client, rooms)
    run_blocking(lambda: _drop_checkpoints(dsn))
    _, _, full_replay = _restart(client, rooms)
    return {
        "students": stats["students"],
        "classrooms": len(rooms),
        "events": stats["events_applied"],
        "pss_empty_mb": empty,
        "pss_loaded_mb": loaded,
        "pss_ratio": round(loaded / empty, 2),
        "restart_process_s": round(process_back, 2),
        "restart_first_classroom_s": round(first_room, 2),
        "restart_from_checkpoints_s": round(from_checkpoints, 2),
        "restart_full_replay_s": round(full_replay, 2),
        "restart_ratio": round(from_checkpoints / full_replay, 3),
    }


def _restart(client: ActorClient, rooms: list[str]) -> tuple[float, float, float]:
    """Seconds from `kill -9` of the shard's process until the new process answers, then from
    there until the first classroom answers a snapshot, and from the kill until every
    classroom has (all asked for at once, as a class's students do)."""
    from actors.runtime.client import blocking

    pid = blocking(client.shard_stats(rooms[0]))["pid"]
    started = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    new_pid = blocking(client.shard_stats(rooms[0]), 120)["pid"]  # Ray retries until restarted
    process_back = time.perf_counter() - started

    answered: list[float] = []

    async def every_room() -> list[dict[str, Any]]:
        async def one(room: str) -> dict[str, Any]:
            snapshot = await client.snapshot(room)
            answered.append(time.perf_counter())
            return snapshot

        return list(await asyncio.gather(*(one(room) for room in rooms)))

    snapshots = blocking(every_room(), 300)
    elapsed = time.perf_counter() - started
    assert new_pid != pid, "the shard was not restarted"
    assert all(s["summary"]["students"] for s in snapshots)
    return process_back, min(answered) - started - process_back, elapsed


async def _migrate(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await upgrade(connection)
    finally:
        await connection.close()


async def _drop_checkpoints(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("DELETE FROM checkpoints")
    finally:
        await connection.close()
