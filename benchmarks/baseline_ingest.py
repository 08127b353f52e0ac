"""The ingest benchmark's baseline: one bare uvicorn + FastAPI process, a Ray driver, running
the same `IngestPipeline` as the Serve deployment (same validation, same token check, one call
to the same Shard actors per request), but not through Serve, and with shards whose event log
is in memory: nothing is durable.

Usage (the harness starts it): python -m benchmarks.baseline_ingest ADDRESS NAMESPACE PORT
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, Request
from fastapi.responses import Response

from actors.runtime.client import ActorClient
from cellmon.settings import Settings
from cellmon_cli import cluster
from serve_app.auth import bearer_token
from serve_app.hot_route import EventsRoute
from serve_app.pipeline import IngestPipeline


def build_app(pipeline: IngestPipeline) -> FastAPI:
    """The routes the benchmark drives (ingest, classroom read) and a health check."""
    app = FastAPI()
    app.add_middleware(EventsRoute, pipeline_of=lambda: pipeline)  # as the Serve ingest

    @app.get("/healthz")
    async def healthz() -> dict[str, object]:
        # The fields wrk.settle waits on, as the Serve replica's /healthz has them.
        return {
            "status": "ok",
            "requests_in_flight": pipeline.in_flight,
            "handoffs_in_flight": pipeline.handoff.in_flight,
        }

    @app.post("/api/v1/events", status_code=202)
    async def post_events(request: Request, authorization: str | None = Header(None)) -> Response:
        return await pipeline.ingest(request, bearer_token(authorization))

    @app.get("/api/v1/classrooms/{classroom_id}")
    async def classroom(
        classroom_id: str, authorization: str | None = Header(None), activity_minutes: int = 60
    ) -> Any:
        """The read the freshness probe polls."""
        await pipeline.authorize_reader(authorization, classroom_id)
        return await pipeline.read(pipeline.actors.snapshot(classroom_id, activity_minutes))

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address")
    parser.add_argument("namespace")
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    settings = Settings(namespace=args.namespace)
    cluster.connect(settings, args.address)
    pipeline = IngestPipeline(ActorClient(args.namespace), settings)
    uvicorn.run(
        build_app(pipeline), host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
