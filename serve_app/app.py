"""Typed Serve application builder: `build_app(AppArgs(...))`."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from ray import serve
from ray.serve import Application

from serve_app.ingest import Ingest


class AppArgs(BaseModel):
    """What the ingest needs to know, validated before deployment."""

    namespace: str = "cellmon"
    max_batch: int = Field(500, ge=1)
    max_code_chars: int = Field(64_000, ge=100)
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    max_event_age: timedelta = timedelta(days=30)
    max_event_ahead: timedelta = timedelta(days=1)
    min_replicas: int = Field(1, ge=1)
    max_replicas: int = Field(2, ge=1)


def build_app(args: AppArgs) -> Application:
    """The ingest deployment, autoscaled between min and max replicas."""
    limits = {
        "max_batch": args.max_batch,
        "max_code_chars": args.max_code_chars,
        "max_event_age": args.max_event_age,
        "max_event_ahead": args.max_event_ahead,
    }
    deployment = Ingest.options(
        autoscaling_config={
            "min_replicas": args.min_replicas,
            "max_replicas": max(args.max_replicas, args.min_replicas),
            "target_ongoing_requests": 32,
        },
        # A log line per request costs the replica more than our own work on a small batch;
        # errors are still logged.
        logging_config={"enable_access_log": False},
    )
    return deployment.bind(args.namespace, limits, args.max_body_bytes)


def deploy(args: AppArgs, host: str, port: int, name: str = "cellmon", route: str = "/") -> None:
    """Start Serve's HTTP proxy on host:port and run the app (blocks until it is healthy).

    Under direct ingress (`cellmon.serve_tuning`) the ingest replica serves the public port
    itself and `port` is only the proxy's."""
    serve.start(http_options={"host": host, "port": port})
    serve.run(build_app(args), name=name, route_prefix=route)
