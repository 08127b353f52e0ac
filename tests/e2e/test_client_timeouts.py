"""Accepted events are applied whatever their HTTP clients do (DESIGN.md, decision 3)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run

pytestmark = pytest.mark.e2e


async def _impatient_storm(url: str, token: str, requests: int) -> int:
    """Requests whose clients give up after 30 ms; returns how many timed out."""
    async with httpx.AsyncClient(base_url=url, timeout=0.03) as client:

        async def post(n: int) -> bool:
            batch = [cell_run(f"impatient-{n % 20}", "ok", i) for i in range(50)]
            try:
                await client.post("/api/v1/events", json=batch, headers=bearer(token))
            except httpx.TimeoutException:
                return True
            return False

        return sum(await asyncio.gather(*(post(n) for n in range(requests))))


async def _patient(url: str, token: str, events: list[dict[str, Any]]) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        codes = []
        for start in range(0, len(events), 10):
            batch = events[start : start + 10]
            response = await client.post("/api/v1/events", json=batch, headers=bearer(token))
            codes.append(response.status_code)
        return codes


def test_accepted_events_survive_a_storm_of_client_timeouts(deployment: Deployment) -> None:
    classroom = deployment.classroom("storm")
    timed_out = asyncio.run(_impatient_storm(deployment.url, classroom["ingest_token"], 200))
    assert timed_out >= 100, "the storm must really time clients out"

    later = [
        cell_run(f"patient-{n % 25}", "error" if n % 4 == 0 else "ok", n % 10) for n in range(1000)
    ]
    codes = asyncio.run(_patient(deployment.url, classroom["ingest_token"], later))
    assert codes == [202] * 100

    snapshot = deployment.snapshot(classroom)
    patient = [row for row in snapshot["students"] if row["student_id"].startswith("patient-")]
    assert sum(row["executions"] for row in patient) == 1000
    assert sum(row["errors"] for row in patient) == 250
