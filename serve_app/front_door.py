"""Overload refusals answered at the replica's front door, before Ray Serve's per-request work.

Profiled under twice the capacity (`benchmarks.under_stress`, py-spy on the ingest replica):
a 429 or 503 cost about what taking the batch cost, because each passed through Serve's
request bookkeeping (ids, metadata, a receive task, metrics, context managers) and FastAPI's
middleware stack before the pipeline refused it. So refusing freed little: the replica spent
its core answering "come back later" and accepted a third of what it took when calm.

Serve wraps its direct-ingress HTTP server in the Starlette middlewares that the function named
by `RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH` returns (`cellmon_cli.serve_tuning` names
`middlewares` below). `FrontDoor` is one: for an ingest POST from a token this replica already
knows, it asks the pipeline whether a batch of cell runs would be refused now; only then does it
read the body, and it answers the refusal itself unless the batch holds a raised hand. Every
request it does not refuse goes on to Serve unchanged (the body it read is handed on), so what
is taken is still counted, autoscaled and drained by Serve.

It acts only where the replica's pipeline runs on the same event loop as the HTTP server (Serve
runs user code on the server's loop unless told to use a thread of its own); elsewhere, in
Serve's proxy for one, it passes everything on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from fastapi import HTTPException
from starlette.middleware import Middleware

from cellmon.validation import holds_urgent
from serve_app.auth import bearer_token, require_sender
from serve_app.body import json_items
from serve_app.hot_route import EVENTS_PATH, token_in_path
from serve_app.pipeline import IngestPipeline

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_opened: tuple[IngestPipeline, asyncio.AbstractEventLoop] | None = None


def open_for(pipeline: IngestPipeline) -> None:
    """Let the front door judge for `pipeline`, on the event loop running now (the one the
    pipeline's requests run on)."""
    global _opened
    _opened = (pipeline, asyncio.get_running_loop())


def middlewares() -> list[Middleware]:
    """What Serve wraps its HTTP servers in (`RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH`)."""
    return [Middleware(FrontDoor)]


class FrontDoor:
    """ASGI middleware: refuses a batch of cell runs the pipeline would refuse anyway, before
    Serve handles the request; passes on everything else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pipeline = _pipeline_here() if scope["type"] == "http" else None
        refusal = _refusal(pipeline, scope) if pipeline and scope["method"] == "POST" else None
        if pipeline is None or refusal is None:
            return await self.app(scope, receive, send)
        body = await _Body.read(receive, pipeline.limits.max_body_bytes)
        if body.complete and not _may_hold_a_hand(body.data, pipeline.limits.max_batch):
            pipeline.refused_busy += 1
            pipeline.refused_at_door += 1
            return await _answer(refusal, send)
        # A raised hand, or a body the pipeline must judge (too large, malformed, gone).
        return await self.app(scope, body.replay(receive), send)


def _pipeline_here() -> IngestPipeline | None:
    """The pipeline, when it runs on this event loop."""
    if _opened is None:
        return None
    pipeline, loop = _opened
    return pipeline if loop is asyncio.get_running_loop() else None


def _refusal(pipeline: IngestPipeline, scope: Scope) -> HTTPException | None:
    """The refusal a batch of cell runs to this ingest path would get now; None when it would
    be taken, and for anything else (another path, an unknown token: the pipeline answers)."""
    path: str = scope["path"]
    token = None if path == EVENTS_PATH else token_in_path(path)
    if token is None and path != EVENTS_PATH:
        return None
    try:
        token = token or bearer_token(_header(scope, b"authorization"))
        caller = pipeline.tokens.known(token)
        if caller is None:
            return None
        require_sender(caller)
    except HTTPException:
        return None
    return pipeline.refusal(caller, pipeline.in_flight + 1)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _may_hold_a_hand(body: bytes, max_batch: int) -> bool:
    """Whether the batch might be urgent; a body that is not a batch is the pipeline's to
    answer (400, 413, 422), so it counts as might."""
    try:
        return holds_urgent(json_items(body, max_batch))
    except HTTPException:
        return True


async def _answer(refusal: HTTPException, send: Send) -> None:
    """The refusal as FastAPI would answer it: `{"detail": ...}` with its headers."""
    content = orjson.dumps({"detail": refusal.detail})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    headers += [(k.lower().encode(), v.encode()) for k, v in (refusal.headers or {}).items()]
    await send({"type": "http.response.start", "status": refusal.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": content})


class _Body:
    """A request body read at the door, up to a bound, to hand on as if unread."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.finished = False  # the last of the body arrived
        self.disconnected: Message | None = None

    @classmethod
    async def read(cls, receive: Receive, limit: int) -> _Body:
        body = cls(limit)
        while body.size <= limit:
            message = await receive()
            if message["type"] != "http.request":
                body.disconnected = message
                return body
            chunk = message.get("body", b"")
            body.chunks.append(chunk)
            body.size += len(chunk)
            body.finished = not message.get("more_body", False)
            if body.finished:
                return body
        return body

    @property
    def complete(self) -> bool:
        """The whole body arrived, within the bound."""
        return self.finished and self.size <= self.limit

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)

    def replay(self, receive: Receive) -> Receive:
        """`receive` as if nothing had been read: what was read first, then the rest."""
        pending: list[Message] = [
            {"type": "http.request", "body": self.data, "more_body": not self.finished}
        ]
        if self.disconnected is not None:
            pending = [self.disconnected]

        async def replayed() -> Message:
            return pending.pop(0) if pending else await receive()

        return replayed
