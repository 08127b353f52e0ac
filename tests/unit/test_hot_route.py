"""The ingest's hot route: ingest POSTs go to the pipeline ahead of FastAPI's routing, with
errors answered as FastAPI answers them; every other request reaches the app unchanged."""

from __future__ import annotations

from typing import Any, cast

import httpx
import pytest
from fastapi import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from cellmon.settings import Settings
from serve_app.hot_route import EventsRoute, token_in_path
from serve_app.pipeline import CLIENT_CLOSED, IngestPipeline

pytestmark = pytest.mark.unit


class RecordingPipeline:
    """Answers with the token and body it was given; a body of b"busy" is refused 429."""

    async def ingest(self, request: Request, token: str) -> Response:
        body = await request.body()
        if body == b"busy":
            raise HTTPException(429, "queue full", headers={"Retry-After": "1"})
        return Response(f"{token}:{body.decode()}", 202)


async def app(scope: Any, receive: Any, send: Any) -> None:
    """What FastAPI would answer: the method and path it was asked."""
    await Response(f"app {scope['method']} {scope['path']}", 200)(scope, receive, send)


def client() -> httpx.AsyncClient:
    route = EventsRoute(app, lambda: cast(IngestPipeline, RecordingPipeline()))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=route), base_url="http://t")


def test_only_a_token_between_c_and_the_events_path_is_a_legacy_token() -> None:
    assert token_in_path("/c/tok-1/api/v1/events") == "tok-1"
    assert token_in_path("/c//api/v1/events") is None
    assert token_in_path("/c/a/b/api/v1/events") is None
    assert token_in_path("/api/v1/events") is None
    assert token_in_path("/c/tok/api/v1/events/x") is None


async def test_ingest_posts_reach_the_pipeline_with_their_token() -> None:
    async with client() as http:
        bearer = await http.post(
            "/api/v1/events", content=b"[1]", headers={"Authorization": "Bearer s3"}
        )
        legacy = await http.post("/c/tok-9/api/v1/events", content=b"[2]")
    assert (bearer.status_code, bearer.text) == (202, "s3:[1]")
    assert (legacy.status_code, legacy.text) == (202, "tok-9:[2]")


async def test_refusals_are_fastapis_json_with_their_headers() -> None:
    async with client() as http:
        anonymous = await http.post("/api/v1/events", content=b"[]")
        busy = await http.post(
            "/api/v1/events", content=b"busy", headers={"Authorization": "Bearer a"}
        )
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert "missing token" in anonymous.json()["detail"]
    assert busy.status_code == 429 and busy.headers["Retry-After"] == "1"
    assert busy.json() == {"detail": "queue full"}


async def test_every_other_request_goes_to_the_app() -> None:
    async with client() as http:
        answers = [
            await http.get("/api/v1/events"),
            await http.post("/api/v1/events/x"),
            await http.post("/c//api/v1/events"),
            await http.get("/api/v1/classrooms/c1"),
        ]
    assert [a.text for a in answers] == [
        "app GET /api/v1/events",
        "app POST /api/v1/events/x",
        "app POST /c//api/v1/events",
        "app GET /api/v1/classrooms/c1",
    ]


async def test_a_client_gone_before_its_body_arrived_is_an_answer_not_a_crash() -> None:
    """Serve logs a traceback for every exception out of the app: at the end of an overload,
    one per queued request whose client left. The pipeline answers 499 instead, and counts."""

    class NoActors:
        async def resolve(self, token: str) -> None:
            return None

    pipeline = IngestPipeline(cast(Any, NoActors()), Settings())
    scope = {"type": "http", "method": "POST", "path": "/api/v1/events", "headers": []}

    async def gone() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    with pytest.raises(HTTPException) as raised:
        await pipeline._body(Request(scope, gone))
    assert raised.value.status_code == CLIENT_CLOSED
    assert pipeline.abandoned == 1
