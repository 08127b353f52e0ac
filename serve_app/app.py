"""Typed Serve application builder: `build_app(AppArgs(settings=...))`."""

from __future__ import annotations

from typing import cast

from pydantic import BaseModel, Field
from ray import serve
from ray.serve import Application, Deployment

from cellmon.settings import Settings
from serve_app.ingest import PUBLIC_APP, Ingest
from serve_app.scaling import POLICY


class AppArgs(BaseModel):
    """The Serve app's arguments: the one settings object, and the replica floor (when not
    given, the settings' `ingest_replicas_min`)."""

    settings: Settings = Field(default_factory=Settings)
    min_replicas: int | None = Field(None, ge=1)


def build_app(args: AppArgs) -> Application:
    """The ingest deployment, autoscaled between its floor and `ingest_replicas_max`."""
    floor = args.min_replicas or args.settings.ingest_replicas_min
    # `@serve.deployment` turned the class into a Deployment; mypy still sees the class.
    deployment = cast(Deployment, Ingest).options(
        autoscaling_config={
            "min_replicas": floor,
            "max_replicas": max(args.settings.ingest_replicas_max, floor),
            "target_ongoing_requests": 32,
            "upscale_delay_s": args.settings.ingest_upscale_delay_s,
            "downscale_delay_s": args.settings.ingest_downscale_delay_s,
            # Serve's own count of ongoing requests misses those answered at the front door.
            "policy": {"policy_function": POLICY},
        },
        # A log line per request costs the replica more than our own work on a small batch;
        # errors are still logged.
        logging_config={"enable_access_log": False},
        # Every request reaches our handler at once, where overload is judged (a raised hand is
        # never refused); past Serve's limit it would wait, unseen, in Serve's own queue.
        max_ongoing_requests=args.settings.ingest_in_flight_max,
    )
    return deployment.bind(args.settings)


def deploy(args: AppArgs, host: str, port: int, name: str = PUBLIC_APP, route: str = "/") -> None:
    """Start Serve's HTTP proxy on host:port and run the app (blocks until it is healthy).

    Under direct ingress (`cellmon_cli.serve_tuning`) the ingest replica serves the public port
    itself and `port` is only the proxy's."""
    serve.start(http_options={"host": host, "port": port})
    serve.run(build_app(args), name=name, route_prefix=route)


def ingest_status(name: str = PUBLIC_APP) -> dict[str, object]:
    """The ingest's replicas by state (RUNNING, STARTING, ...) and its health, as Serve sees
    them: how far autoscaling has gone, for `cellmon status`."""
    application = serve.status().applications.get(name)
    if application is None:
        return {"status": "NOT_DEPLOYED", "replicas": {}}
    deployment = application.deployments.get(cast(Deployment, Ingest).name)
    states = deployment.replica_states if deployment else {}
    return {
        "status": _name(application.status),
        "replicas": {_name(state): count for state, count in states.items()},
    }


def _name(state: object) -> str:
    """An enum member as its plain name ("RUNNING")."""
    return str(getattr(state, "value", state))
