"""The replica's front door: a batch of cell runs the pipeline would refuse is refused before
Serve's per-request work, with the pipeline's own 429/503; a raised hand, an unknown token,
a body the pipeline must judge and every other request go on with the body unread."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, cast

import httpx
import orjson
import pytest

from actors.domain.registry import Grant, Resolved
from cellmon.settings import Settings
from serve_app import front_door
from serve_app.front_door import FrontDoor
from serve_app.pipeline import IngestPipeline
from serve_app.shedding import Shedding
from tests.e2e.events import cell_run, help_request

pytestmark = pytest.mark.unit

TOKEN = "student-token"


class Directory:
    """Knows one student token, of student s1 in classroom c1."""

    async def resolve(self, digest: str) -> Resolved | None:
        from actors.domain.registry import hash_token

        if digest != hash_token(TOKEN):
            return None
        return Resolved(Grant("c1", "student", "s1"), require_student_tokens=False)


async def behind(scope: Any, receive: Any, send: Any) -> None:
    """Serve, as the door sees it: answers with the body it could still read."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    content = orjson.dumps({"passed": scope["path"], "body": body.decode()})
    await send({"type": "http.response.start", "status": 202, "headers": []})
    await send({"type": "http.response.body", "body": content})


@pytest.fixture
def pipeline() -> Iterator[IngestPipeline]:
    pipe = IngestPipeline(cast(Any, Directory()), Settings())
    yield pipe
    front_door._opened = None


async def opened(pipe: IngestPipeline, *, full: bool) -> httpx.AsyncClient:
    """A client of the door, its pipeline known to this loop and its token cached; `full`:
    the ingest holds as many requests as it may, so any batch of cell runs is refused."""
    front_door.open_for(pipe)
    await pipe.tokens.caller(TOKEN)
    pipe.shedding = Shedding(in_flight_max=0 if full else 1_000, queue_limit_s=1.0)
    transport = httpx.ASGITransport(app=FrontDoor(behind))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


def post(http: httpx.AsyncClient, events: Any, token: str = TOKEN, path: str = "") -> Any:
    body = events if isinstance(events, bytes) else orjson.dumps(events)
    where = path or "/api/v1/events"
    headers = {} if path else {"Authorization": f"Bearer {token}"}
    return http.post(where, content=body, headers=headers)


async def test_cell_runs_the_pipeline_would_refuse_are_refused_at_the_door(
    pipeline: IngestPipeline,
) -> None:
    async with await opened(pipeline, full=True) as http:
        refused = await post(http, [cell_run("s1"), cell_run("s1")])
        legacy = await post(http, [cell_run("s1")], path=f"/c/{TOKEN}/api/v1/events")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert "a raised hand still goes through" in refused.json()["detail"]
    assert legacy.status_code == 503
    assert (pipeline.refused_at_door, pipeline.refused_busy) == (2, 2)


async def test_a_raised_hand_goes_on_with_its_body_unread(pipeline: IngestPipeline) -> None:
    hand = [help_request("s1")]
    async with await opened(pipeline, full=True) as http:
        answer = await post(http, hand)
    assert answer.status_code == 202
    assert orjson.loads(answer.json()["body"]) == hand
    assert pipeline.refused_at_door == 0


async def test_what_the_pipeline_must_judge_goes_on(pipeline: IngestPipeline) -> None:
    """An unknown token (401 there), a malformed or oversized body (400, 413), and any batch
    while the ingest takes them."""
    too_big = b"[" + b" " * pipeline.limits.max_body_bytes + b"]"
    async with await opened(pipeline, full=True) as http:
        unknown = await post(http, [cell_run("s1")], token="someone-else")
        malformed = await post(http, b"[{")
        oversized = await post(http, too_big)
        other_path = await http.post("/api/v1/classrooms/c1/students", content=b"{}")
    assert [a.status_code for a in (unknown, malformed, oversized, other_path)] == [202] * 4
    assert malformed.json()["body"] == "[{"
    assert len(oversized.json()["body"]) == len(too_big)
    async with await opened(pipeline, full=False) as http:
        taken = await post(http, [cell_run("s1")])
    assert taken.status_code == 202 and taken.json()["passed"] == "/api/v1/events"
    assert pipeline.refused_at_door == 0


async def test_the_door_judges_only_on_the_pipelines_own_loop(pipeline: IngestPipeline) -> None:
    """Serve may run user code on a thread of its own; the door then passes everything on."""
    await asyncio.to_thread(asyncio.run, _open_elsewhere(pipeline))
    await pipeline.tokens.caller(TOKEN)
    pipeline.shedding = Shedding(in_flight_max=0, queue_limit_s=1.0)
    transport = httpx.ASGITransport(app=FrontDoor(behind))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        answer = await post(http, [cell_run("s1")])
    assert answer.status_code == 202 and pipeline.refused_at_door == 0


async def _open_elsewhere(pipe: IngestPipeline) -> None:
    front_door.open_for(pipe)


def test_serve_is_told_to_wrap_its_servers_in_the_door() -> None:
    from cellmon_cli.serve_tuning import serve_environment

    path = serve_environment(Settings())["RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH"]
    module, _, name = path.rpartition(".")
    assert (module, name) == ("serve_app.front_door", "middlewares")
    assert [m.cls for m in front_door.middlewares()] == [FrontDoor]
