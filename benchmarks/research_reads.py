"""A researcher's reads against their plain baselines, in the same run:

- `live_all` over `--classrooms` classrooms (every shard at once, pseudonymised DataFrames)
  against the same snapshots fetched one call after another;
- `history` over `--events` logged events, counted per status on the cluster by Ray Data,
  against one plain `SELECT` of the same rows into pandas in this process, counted there.

Starts its own Ray cluster and Serve ingest on a fresh database of the machine's PostgreSQL.

Usage: .venv/bin/python -m benchmarks.research_reads [--classrooms 50] [--events 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pandas as pd  # type: ignore[import-untyped]
from ray.data.context import ShuffleStrategy

import cellmon_research as research
from actors.adapters import researchers
from actors.runtime.client import ActorClient, blocking
from cellmon_cli import stack
from cellmon_cli.cluster import own_cluster
from tests.e2e.deployment import own_settings
from tests.e2e.events import cell_run
from tests.support import term_log
from tests.support.fixtures import temporary_database


def _timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def live_all(
    r: research.Research, actors: ActorClient, ids: list[str], rounds: int
) -> dict[str, Any]:
    def one_by_one() -> None:
        for classroom_id in ids:
            blocking(actors.snapshot(classroom_id))

    fanned, sequential = [], []
    for _ in range(rounds):  # alternated, so both see the same machine
        fanned.append(_timed(r.live_all))
        sequential.append(_timed(one_by_one))
    live, plain = statistics.median(fanned), statistics.median(sequential)
    return {
        "classrooms": len(ids),
        "rounds": rounds,
        "live_all_ms": round(live * 1000, 1),
        "sequential_snapshots_ms": round(plain * 1000, 1),
        "speedup": round(plain / live, 2),
    }


def history(r: research.Research, dsn: str, classroom_id: str) -> dict[str, Any]:
    counts: dict[str, Any] = {}

    def on_cluster(strategy: ShuffleStrategy | None = None) -> None:
        dataset = r.history(classroom_id)
        if strategy is not None:
            dataset.context.shuffle_strategy = strategy
        rows = dataset.groupby("status").count().take_all()
        counts["cluster"] = {row["status"]: row["count()"] for row in rows}

    def in_pandas() -> None:
        async def fetch() -> list[Any]:
            connection = await asyncpg.connect(dsn)
            try:
                return list(
                    await connection.fetch(
                        "SELECT seq, student_id, type, time, payload->>'status' AS status"
                        " FROM events WHERE classroom_id = $1",
                        classroom_id,
                    )
                )
            finally:
                await connection.close()

        frame = pd.DataFrame([dict(row) for row in asyncio.run(fetch())])
        counts["pandas"] = frame.groupby("status").size().to_dict()

    first = term_log.TERM_START + timedelta(seconds=10)
    r.history(classroom_id, until=first).count()  # Ray Data's workers start, untimed
    cluster_s, pandas_s = _timed(on_cluster), _timed(in_pandas)
    assert counts["cluster"] == counts["pandas"], counts
    hash_s = _timed(lambda: on_cluster(ShuffleStrategy.HASH_SHUFFLE))  # Ray Data's default
    assert counts["cluster"] == counts["pandas"], counts
    return {
        "events": sum(counts["pandas"].values()),
        "history_s": round(cluster_s, 1),
        "history_hash_shuffle_s": round(hash_s, 1),
        "plain_select_pandas_s": round(pandas_s, 1),
        "ratio": round(pandas_s / cluster_s, 2),
    }


def main(classrooms: int, events: int, rounds: int) -> dict[str, Any]:
    with temporary_database() as dsn:
        settings = own_settings("bench-research", dsn, shards_min=2, shards_max=4)
        with own_cluster(settings):
            stack.deploy(settings)
            url = f"http://127.0.0.1:{settings.http_port}"
            rooms = [
                stack.create_classroom(settings, "r", f"r{n}-{uuid.uuid4().hex[:6]}")
                for n in range(classrooms)
            ]
            for room in rooms:  # 30 students, a few runs each: a class's first minutes
                batch = [cell_run(f"s{k}", "ok", c) for k in range(30) for c in range(3)]
                answer = httpx.post(
                    f"{url}/api/v1/events",
                    json=batch,
                    headers={"Authorization": f"Bearer {room['ingest_token']}"},
                    timeout=60,
                )
                answer.raise_for_status()
            term = stack.create_classroom(settings, "term", f"term-{uuid.uuid4().hex[:6]}")
            asyncio.run(term_log.fill(dsn, term["classroom_id"], events, students=300))
            ids = [room["classroom_id"] for room in rooms]
            # Two studies: live_all must not load the term's million events onto a shard.
            live = research.connect(researchers.add(dsn, "live", ids), settings=settings)
            past = research.connect(
                researchers.add(dsn, "past", [term["classroom_id"]]), settings=settings
            )
            live.live_all()  # every classroom loaded on its shard before timing
            return {
                "live_all": live_all(live, ActorClient(settings.namespace), ids, rounds),
                "history": history(past, dsn, term["classroom_id"]),
            }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classrooms", type=int, default=50)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(main(args.classrooms, args.events, args.rounds), indent=2))
