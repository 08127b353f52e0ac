"""A class's event stream sent the way a student's Jupyter does: in order, retrying until
acknowledged (a 429 or 503, a reset connection or a dead replica only delays an event)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from tests.e2e.events import cell_run, help_request

RETRYABLE = {429, 500, 502, 503, 504}


def class_stream(students: int, per_student: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """Each student's events in order: runs with errors and streaks, help raised and withdrawn."""
    rng = random.Random(seed)
    streams: dict[str, list[dict[str, Any]]] = {}
    for n in range(students):
        student, events, cell = f"s{n:02d}", [], 0
        for _ in range(per_student):
            roll = rng.random()
            if roll < 0.05:
                events.append(help_request(student))
            elif roll < 0.08:
                events.append({**help_request(student), "type": "help_stop"})
            else:
                status = "error" if rng.random() < 0.3 else "ok"
                events.append(cell_run(student, status, cell))
                cell = cell + 1 if status == "ok" else cell
        streams[student] = events
    return streams


def fresh_ids(streams: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The same stream with new event ids, for a second classroom."""
    return {
        s: [{**e, "event_id": str(uuid.uuid4())} for e in events] for s, events in streams.items()
    }


async def send_stream(
    url: str,
    token: str,
    streams: dict[str, list[dict[str, Any]]],
    batch: int = 3,
    on_acked: Callable[[int], Any] | None = None,
    answers: Counter[int] | None = None,
) -> int:
    """Send every student's events in order, each batch retried until acknowledged."""
    acked, answers = 0, Counter() if answers is None else answers

    async def student(client: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
        nonlocal acked
        for start in range(0, len(events), batch):
            await _deliver(client, token, events[start : start + batch], answers)
            acked += len(events[start : start + batch])
            if on_acked is not None:
                await on_acked(acked)

    async with httpx.AsyncClient(base_url=url.rstrip("/") + "/", timeout=30) as client:
        await asyncio.gather(*(student(client, events) for events in streams.values()))
    return acked


async def _deliver(
    client: httpx.AsyncClient, token: str, batch: list[dict[str, Any]], answers: Counter[int]
) -> None:
    for _ in range(600):
        try:
            response = await client.post(
                "api/v1/events", json=batch, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError:
            answers[0] += 1  # no answer at all: a dead replica or a reset connection
            await asyncio.sleep(0.2)  # a sender's pause before it retries, not a synchronisation
            continue
        answers[response.status_code] += 1
        if response.status_code == 202:
            return
        if response.status_code not in RETRYABLE:
            raise AssertionError(f"{response.status_code}: {response.text}")
        await asyncio.sleep(0.2)  # the pause before a retry after a 5xx
    raise AssertionError("batch never acknowledged")


def comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What must be equal between two runs of the same stream (times and ids differ)."""
    students = sorted(
        (
            {k: v for k, v in row.items() if not k.endswith("_at") and k != "help_since"}
            | {"asking_for_help": row["help_since"] is not None}
            for row in snapshot["students"]
        ),
        key=lambda row: row["student_id"],
    )
    return {
        "summary": snapshot["summary"],
        "events_applied": snapshot["events_applied"],
        "help_queue": sorted(row["student_id"] for row in snapshot["help_queue"]),
        "students": students,
        "cells": snapshot["cells"],
        "teams": snapshot["teams"],
        "activity_totals": [
            sum(m[k] for m in snapshot["activity"]) for k in ("executions", "errors", "help")
        ],
    }
