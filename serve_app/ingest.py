"""The ingest and read API: a thin async FastAPI ingress over the directory and shards."""

# No `from __future__ import annotations` here: FastAPI must see real types on the Serve
# ingress methods (with string annotations it took `request: Request` for a query parameter).

import os
import time
from typing import Any, cast

import orjson
from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import Response
from ray import serve

from actors.runtime.client import ActorClient
from cellmon.settings import Settings
from cellmon.views import ClassroomSnapshot, StudentDetail
from serve_app import front_door
from serve_app.admin import Admin, Enrollment, TokenRule
from serve_app.auth import bearer_token
from serve_app.hot_route import EventsRoute
from serve_app.pipeline import IngestPipeline
from serve_app.rebind import allow_rebind_after_crash
from serve_app.scaling import HELD_AT_DOOR

PUBLIC_APP = "cellmon"  # the Serve app whose replicas all serve the public port

api = FastAPI(
    title="Cell Monitor",
    version="1",
    description="Live learning analytics for Jupyter classes: event ingest and classroom reads.",
)


def _replica_pipeline() -> IngestPipeline:
    """This replica's pipeline (Serve builds the deployment after the app is made). Found by
    the first ingest request, on the loop the pipeline runs on: the front door opens then."""
    ingest = cast("Ingest", serve.get_replica_context().servable_object)
    front_door.open_for(ingest.pipeline)
    return ingest.pipeline


# Ingest POSTs are answered ahead of FastAPI's routing (see serve_app.hot_route).
api.add_middleware(EventsRoute, pipeline_of=_replica_pipeline)


@serve.deployment(ray_actor_options={"num_cpus": 0}, max_ongoing_requests=200)
@serve.ingress(api)
class Ingest:
    """Validates, authorizes and hands each batch to its classroom's shard in one actor call."""

    def __init__(self, settings: Settings) -> None:
        # Runs before Serve opens this replica's HTTP port.
        owns_port = serve.get_replica_context().app_name == PUBLIC_APP
        allow_rebind_after_crash(settings.http_port if owns_port else None)
        actors = ActorClient(settings.namespace, starting=settings)
        self._pipeline = IngestPipeline(actors, settings)
        self._admin = Admin(self._pipeline.actors, self._pipeline.tokens)

    @property
    def pipeline(self) -> IngestPipeline:
        return self._pipeline

    def record_autoscaling_stats(self) -> dict[str, float]:
        """What Serve's autoscaler cannot count itself: requests held at the front door."""
        return {HELD_AT_DOOR: front_door.held()}

    @api.get("/healthz")
    async def healthz(self) -> dict[str, Any]:
        """Liveness of this replica, with hand-offs still running."""
        return {
            "status": "ok",
            "replica_pid": os.getpid(),
            "handoffs_in_flight": self._pipeline.handoff.in_flight,
            "requests_in_flight": self._pipeline.in_flight,
            "queued_s": round(self._pipeline.handoff.longest_wait_s(time.monotonic()), 3),
            "refused_busy": self._pipeline.refused_busy,
            "answered_at_door": front_door.answered(),
            "abandoned": self._pipeline.abandoned,
            "expected_wait_s": round(
                self._pipeline.shedding.expected_wait_s(self._pipeline.in_flight, time.monotonic()),
                3,
            ),
        }

    # `EventsRoute` answers these two before routing; they stay for OpenAPI, and as the route
    # of any ingest request whose path it does not match.
    @api.post("/api/v1/events", status_code=202)
    async def post_events(
        self, request: Request, authorization: str | None = Header(None)
    ) -> Response:
        """Accept a batch (JSON array, or one object) of v1 or legacy camelCase events."""
        return await self._pipeline.ingest(request, bearer_token(authorization))

    @api.post("/c/{token}/api/v1/events", status_code=202, include_in_schema=False)
    async def post_events_legacy(self, request: Request, token: str) -> Response:
        """For the existing extension, which cannot send headers: the token is in its URL."""
        return await self._pipeline.ingest(request, token)

    @api.post("/api/v1/classrooms/{classroom_id}/students", status_code=201)
    async def enroll(
        self, classroom_id: str, who: Enrollment, authorization: str | None = Header(None)
    ) -> dict[str, Any]:
        """Put a student on the roster (name and team as the class sees them) and issue their
        own token, shown once; enrolling again issues a new one and the old stops working."""
        return await self._admin.enroll(authorization, classroom_id, who)

    @api.post("/api/v1/classrooms/{classroom_id}/students/{student_id}/token")
    async def rotate_student_token(
        self, classroom_id: str, student_id: str, authorization: str | None = Header(None)
    ) -> dict[str, Any]:
        """A new token for a student; the old one stops working within 30 s on every replica."""
        return await self._admin.rotate(authorization, classroom_id, student_id)

    @api.delete("/api/v1/classrooms/{classroom_id}/students/{student_id}", status_code=204)
    async def remove_student(
        self, classroom_id: str, student_id: str, authorization: str | None = Header(None)
    ) -> Response:
        """Revoke the student's token and take them off the roster; their history stays."""
        await self._admin.remove(authorization, classroom_id, student_id)
        return Response(status_code=204)

    @api.put("/api/v1/classrooms/{classroom_id}/token-rule")
    async def token_rule(
        self, classroom_id: str, rule: TokenRule, authorization: str | None = Header(None)
    ) -> dict[str, Any]:
        """Require students' own tokens (the classroom-wide token is then refused everywhere)."""
        return await self._admin.set_rule(authorization, classroom_id, rule)

    # The shapes are typed (cellmon.views) and documented in OpenAPI; the answer is serialized
    # directly, since re-validating a 1,000-student snapshot on every read would cost more
    # than making it.
    @api.get("/api/v1/classrooms/{classroom_id}", response_model=ClassroomSnapshot)
    async def classroom(
        self,
        classroom_id: str,
        authorization: str | None = Header(None),
        activity_minutes: int = Query(60, ge=1, le=7 * 24 * 60),
    ) -> Response:
        """The classroom's live aggregate: summary, help queue, students, teams, cells."""
        await self._pipeline.authorize_reader(authorization, classroom_id)
        actors = self._pipeline.actors
        snapshot = await self._pipeline.read(actors.snapshot(classroom_id, activity_minutes))
        return Response(orjson.dumps(snapshot), media_type="application/json")

    @api.get(
        "/api/v1/classrooms/{classroom_id}/students/{student_id}", response_model=StudentDetail
    )
    async def student(
        self, classroom_id: str, student_id: str, authorization: str | None = Header(None)
    ) -> Response:
        """One student's detail: counters, current cell, latest code and error, per-cell runs."""
        await self._pipeline.authorize_reader(authorization, classroom_id)
        actors = self._pipeline.actors
        detail = await self._pipeline.read(actors.student(classroom_id, student_id))
        if detail is None:
            raise HTTPException(404, f"no events from student {student_id!r} in {classroom_id!r}")
        return Response(orjson.dumps(detail), media_type="application/json")
