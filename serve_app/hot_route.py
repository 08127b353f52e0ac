"""`POST /api/v1/events` answered ahead of FastAPI's routing: the one route every student's
Jupyter calls, at hundreds of requests a second.

Profiled under `wrk` at one event per request (BENCHMARKS.md), FastAPI spent about a quarter
of the ingest replica's CPU around our handler: a dozen middleware and router layers, the
dependency solver for one header, the response wrapper. The handler itself needs a token, the
body and a place to answer. This plain ASGI middleware matches the two ingest paths and runs the
same `IngestPipeline`, answering errors as FastAPI would (`{"detail": ...}` with the exception's
headers); every other request goes on to FastAPI unchanged. The routes stay declared on the
FastAPI app, for its OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from fastapi import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from serve_app.auth import bearer_token
from serve_app.pipeline import IngestPipeline

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

EVENTS_PATH = "/api/v1/events"
LEGACY_PREFIX = "/c/"  # /c/{token}/api/v1/events: the existing extension cannot send headers


def token_in_path(path: str) -> str | None:
    """The token of a legacy ingest path, None for any other path."""
    if not path.startswith(LEGACY_PREFIX) or not path.endswith(EVENTS_PATH):
        return None
    token = path[len(LEGACY_PREFIX) : -len(EVENTS_PATH)]
    return token if token and "/" not in token else None


class EventsRoute:
    """ASGI middleware: ingest POSTs to the pipeline, everything else to `app`.
    `pipeline_of` finds this process's pipeline at the first request (a Serve replica builds it
    after the app is made)."""

    def __init__(self, app: ASGIApp, pipeline_of: Callable[[], IngestPipeline]) -> None:
        self.app, self._pipeline_of = app, pipeline_of
        self._pipeline: IngestPipeline | None = None
        self.held = 0  # ingest requests it is answering now
        self.answered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        legacy = None if path == EVENTS_PATH else token_in_path(path)
        if path != EVENTS_PATH and legacy is None:
            return await self.app(scope, receive, send)
        if self._pipeline is None:
            self._pipeline = self._pipeline_of()
        request = Request(scope, receive)
        self.held += 1
        try:
            token = legacy or bearer_token(request.headers.get("authorization"))
            response = await self._pipeline.ingest(request, token)
        except HTTPException as error:
            response = Response(
                orjson.dumps({"detail": error.detail}),
                error.status_code,
                headers=error.headers,
                media_type="application/json",
            )
        finally:
            self.held -= 1
        self.answered += 1
        await response(scope, receive, send)
