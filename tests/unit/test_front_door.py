"""The replica's front door: once the pipeline has answered on the server's event loop, ingest
POSTs are answered there, ahead of Serve's per-request work, with what the pipeline answers;
every other request, and every request before that or on another loop, goes on to Serve."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import httpx
import orjson
import pytest

from actors.domain.registry import Grant, Resolved, hash_token
from cellmon.settings import Settings
from serve_app import front_door
from serve_app.front_door import FrontDoor
from serve_app.pipeline import IngestPipeline
from serve_app.scaling import HELD_AT_DOOR, follow_requests_held
from serve_app.shedding import Shedding
from tests.e2e.events import cell_run

pytestmark = pytest.mark.unit

TOKEN = "student-token"


class Directory:
    """Knows one student token, of student s1 in classroom c1."""

    async def resolve(self, digest: str) -> Resolved | None:
        if digest != hash_token(TOKEN):
            return None
        return Resolved(Grant("c1", "student", "s1"), require_student_tokens=False)


async def serve(scope: Any, receive: Any, send: Any) -> None:
    """Serve, as the door sees it: answers 200 with the path it was asked."""
    content = orjson.dumps({"served": scope["path"]})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": content})


@pytest.fixture
def pipeline() -> Iterator[IngestPipeline]:
    """A pipeline that refuses every batch of cell runs: the ingest holds all it may (its
    answers need no shard)."""
    pipe = IngestPipeline(cast(Any, Directory()), Settings())
    pipe.shedding = Shedding(in_flight_max=0, queue_limit_s=1.0)
    yield pipe
    front_door._opened = front_door._route = None


def client(door: FrontDoor) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=door), base_url="http://t")


async def post(http: httpx.AsyncClient, token: str = TOKEN, path: str = "") -> httpx.Response:
    headers = {} if path else {"Authorization": f"Bearer {token}"}
    body = orjson.dumps([cell_run("s1")])
    return await http.post(path or "/api/v1/events", content=body, headers=headers)


async def test_once_open_the_door_answers_ingest_posts_with_the_pipelines_answer(
    pipeline: IngestPipeline,
) -> None:
    door = FrontDoor(serve)
    async with client(door) as http:
        before = await post(http)
        front_door.open_for(pipeline)
        refused = await post(http)
        legacy = await post(http, path=f"/c/{TOKEN}/api/v1/events")
        unknown = await post(http, token="someone-else")
        read = await http.get("/api/v1/classrooms/c1")
        other = await http.post("/api/v1/classrooms/c1/students", content=b"{}")
    assert before.json() == {"served": "/api/v1/events"}
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert "a raised hand still goes through" in refused.json()["detail"]
    assert legacy.status_code == 503
    assert unknown.status_code == 401 and unknown.json() == {"detail": "unknown token"}
    assert read.json() == {"served": "/api/v1/classrooms/c1"}
    assert other.json() == {"served": "/api/v1/classrooms/c1/students"}
    assert (front_door.answered(), front_door.held(), pipeline.refused_busy) == (3, 0, 2)


async def test_the_door_answers_only_on_the_pipelines_own_loop(pipeline: IngestPipeline) -> None:
    """Serve may run user code on a thread of its own; the door then passes everything on."""
    await asyncio.to_thread(asyncio.run, _open_elsewhere(pipeline))
    async with client(FrontDoor(serve)) as http:
        answer = await post(http)
    assert answer.json() == {"served": "/api/v1/events"} and front_door.answered() == 0


async def _open_elsewhere(pipe: IngestPipeline) -> None:
    front_door.open_for(pipe)


def test_serve_is_told_to_wrap_its_servers_in_the_door() -> None:
    from cellmon_cli.serve_tuning import serve_environment

    path = serve_environment(Settings())["RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH"]
    module, _, name = path.rpartition(".")
    assert (module, name) == ("serve_app.front_door", "middlewares")
    assert [m.cls for m in front_door.middlewares()] == [FrontDoor]


def test_the_autoscaler_counts_requests_held_at_the_door_with_serves_own() -> None:
    config = SimpleNamespace(get_target_ongoing_requests=lambda: 32)

    def wanted(serve_count: float, at_door: dict[str, float] | None) -> float:
        metrics = None if at_door is None else {HELD_AT_DOOR: at_door}
        context = SimpleNamespace(
            total_num_requests=serve_count, aggregated_metrics=metrics, config=config
        )
        return follow_requests_held(cast(Any, context))[0]

    assert wanted(0, None) == 0
    assert wanted(16, None) == 0.5
    assert wanted(8, {"replica-1": 40.0, "replica-2": 16.0}) == 2.0
