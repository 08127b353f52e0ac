"""Ingest POSTs answered at the replica's front door, ahead of Ray Serve's per-request work.

Profiled under `wrk` (py-spy on the ingest replica, BENCHMARKS.md), Serve's direct-ingress
handler and the FastAPI stack around `EventsRoute` took about a quarter of the replica's CPU
per request: request ids, metadata, a receive task, metrics, context managers, then a dozen
middleware layers. Under twice the capacity a 429/503 cost about what taking the batch cost,
so refusing freed little.

Serve wraps its direct-ingress HTTP server in the Starlette middlewares that the function named
by `RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH` returns (`cellmon_cli.serve_tuning` names
`middlewares` below). `FrontDoor` is one. Once the replica's pipeline has answered an ingest
request on the server's own event loop (`open_for`), the door runs the same `EventsRoute` there,
before Serve; every other request goes on to Serve unchanged. Where the pipeline runs on
another loop (Serve can run user code on a thread of its own), and in Serve's proxy, the door
passes everything on.

Serve does not see what the door answers, so the door counts what it holds, and the deployment
reports that to Serve's autoscaler (`serve_app.scaling`).
"""

from __future__ import annotations

import asyncio

from starlette.middleware import Middleware

from serve_app.hot_route import ASGIApp, EventsRoute, Receive, Scope, Send
from serve_app.pipeline import IngestPipeline

_opened: tuple[IngestPipeline, asyncio.AbstractEventLoop] | None = None
_route: EventsRoute | None = None  # this process's door, once open


def open_for(pipeline: IngestPipeline) -> None:
    """Let the door answer for `pipeline`, on the event loop running now (the one the
    pipeline's requests run on)."""
    global _opened
    _opened = (pipeline, asyncio.get_running_loop())


def held() -> int:
    """Ingest requests the door of this process is answering now."""
    return _route.held if _route else 0


def answered() -> int:
    """Ingest requests the door of this process has answered."""
    return _route.answered if _route else 0


def middlewares() -> list[Middleware]:
    """What Serve wraps its HTTP servers in (`RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH`)."""
    return [Middleware(FrontDoor)]


class FrontDoor:
    """ASGI middleware: ingest POSTs to the pipeline once the door is open, all else to Serve."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._route: EventsRoute | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._route is None:
            pipeline = _pipeline_here()
            if pipeline is None:
                return await self.app(scope, receive, send)
            global _route
            self._route = _route = EventsRoute(self.app, lambda: pipeline)
        await self._route(scope, receive, send)


def _pipeline_here() -> IngestPipeline | None:
    """The pipeline, when it runs on this event loop."""
    if _opened is None:
        return None
    pipeline, loop = _opened
    return pipeline if loop is asyncio.get_running_loop() else None
