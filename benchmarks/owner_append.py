"""What checking the classroom's shard costs an append to the PostgreSQL event log: the append a
shard makes (`append(..., shard)`: the registry row held FOR SHARE in the same statement)
against the plain append, alternating, in the same process and run, on a fresh database of the
machine's PostgreSQL (the ratio is the figure).

Usage: .venv/bin/python -m benchmarks.owner_append [--appends 400] [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from pydantic import TypeAdapter

from actors.adapters.stores.migrate import upgrade
from actors.adapters.stores.postgres import PostgresStore
from actors.domain.registry import Change, Classroom
from cellmon.contract import Event
from tests.support.fixtures import temporary_database

_EVENT: TypeAdapter[Any] = TypeAdapter(Event)


def _batch(size: int) -> list[Any]:
    now = datetime.now(UTC)
    return [
        _EVENT.validate_python(
            {
                "type": "cell_executed",
                "event_id": str(uuid.uuid4()),
                "classroom_id": "bench",
                "student_id": f"s{i % 30}",
                "time": now,
                "received_at": now,
                "status": "ok",
                "cell_id": f"c{i % 12}",
                "cell_index": i % 12,
                "code": "df.groupby('team').mean()",
            }
        )
        for i in range(size)
    ]


async def _measure(dsn: str, appends: int, rounds: int) -> dict[str, Any]:
    connection = await asyncpg.connect(dsn)
    await upgrade(connection)
    await connection.close()
    store = PostgresStore(dsn)
    await store.save_classroom(Classroom("bench", "bench", 0), Change("bench"))
    figures: dict[str, Any] = {}
    for size in (1, 100):
        times: dict[str, list[float]] = {"plain": [], "as_owner": []}
        for _ in range(rounds):
            for kind, shard in (("plain", None), ("as_owner", 0)):
                batches = [_batch(size) for _ in range(appends)]
                started = time.perf_counter()
                for batch in batches:
                    await store.append("bench", batch, shard)
                times[kind].append((time.perf_counter() - started) / appends * 1000)
        plain, owner = statistics.median(times["plain"]), statistics.median(times["as_owner"])
        figures[f"batch_{size}"] = {
            "plain_ms": round(plain, 3),
            "as_owner_ms": round(owner, 3),
            "ratio": round(owner / plain, 3),
        }
    await store.close()
    return figures


def main(appends: int, rounds: int) -> dict[str, Any]:
    with temporary_database() as dsn:
        return asyncio.run(_measure(dsn, appends, rounds))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(main(args.appends, args.rounds), indent=2))
