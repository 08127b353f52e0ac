"""The pause a moving classroom's students see: ingest latency of a classroom moved between
shards again and again, against a classroom of the same size that never moves, posting at the
same time to the same cluster (the ratio of their p99 is the figure).

Starts its own Ray cluster and Serve ingest on a fresh database of the machine's PostgreSQL.
Each classroom has `--senders` students, each posting a batch, waiting for its answer, posting
the next (as the extension does); the moving one is moved every `--every` seconds.

Usage: .venv/bin/python -m benchmarks.move_pause [--seconds 30] [--senders 20] [--every 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from typing import Any

import httpx

from cellmon.settings import Settings
from cellmon_cli import stack
from cellmon_cli.cluster import own_cluster
from tests.e2e.deployment import own_settings
from tests.e2e.events import cell_run
from tests.support.fixtures import temporary_database


async def _student(
    url: str, token: str, name: str, until: float, latencies: list[float], statuses: list[int]
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        cell = 0
        while time.monotonic() < until:
            batch = [cell_run(name, "ok", cell + i) for i in range(3)]
            started = time.perf_counter()
            answer = await client.post(
                f"{url}/api/v1/events", json=batch, headers={"Authorization": f"Bearer {token}"}
            )
            latencies.append((time.perf_counter() - started) * 1000)
            statuses.append(answer.status_code)
            cell += 3


async def _mover(settings: Settings, room: str, every_s: float, until: float) -> list[Any]:
    from actors.runtime.client import ActorClient

    actors, moves = ActorClient(settings.namespace), []
    while time.monotonic() + every_s < until:
        await asyncio.sleep(every_s)  # the pace of the moves, not a synchronisation
        moves.append(await actors.move(room))
    return moves


def _summary(latencies: list[float], statuses: list[int]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)], 1),
        "max_ms": round(ordered[-1], 1),
        "non_202": sum(s != 202 for s in statuses),
    }


def main(seconds: float, senders: int, every_s: float) -> dict[str, Any]:
    with temporary_database() as dsn:
        settings = own_settings("bench-move", dsn, shards_min=2, shards_max=2)
        with own_cluster(settings):
            stack.deploy(settings)
            url = f"http://127.0.0.1:{settings.http_port}"
            rooms = {
                kind: stack.create_classroom(settings, kind, f"{kind}-{uuid.uuid4().hex[:6]}")
                for kind in ("moving", "still")
            }
            # Apart, so each move is between the still classroom's shard and the other.
            assert rooms["moving"]["shard"] != rooms["still"]["shard"]
            measured: dict[str, tuple[list[float], list[int]]] = {k: ([], []) for k in rooms}

            async def run() -> list[Any]:
                until = time.monotonic() + seconds
                students = [
                    _student(url, room["ingest_token"], f"s{n}", until, *measured[kind])
                    for kind, room in rooms.items()
                    for n in range(senders)
                ]
                moves, *_ = await asyncio.gather(
                    _mover(settings, rooms["moving"]["classroom_id"], every_s, until), *students
                )
                return list(moves)

            moves = asyncio.run(run())
    moving, still = (_summary(*measured[k]) for k in ("moving", "still"))
    paused = sorted(m["paused_ms"] for m in moves)
    return {
        "seconds": seconds,
        "senders_per_classroom": senders,
        "moves": len(moves),
        "move_released_ms_median": round(statistics.median(m["released_ms"] for m in moves), 1),
        "move_paused_ms_median": round(statistics.median(paused), 1),
        "move_paused_ms_max": paused[-1],
        "moving": moving,
        "still": still,
        "p99_ratio": round(moving["p99_ms"] / still["p99_ms"], 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between moves")
    args = parser.parse_args()
    print(json.dumps(main(args.seconds, args.senders, args.every), indent=2))
