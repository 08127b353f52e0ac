"""The ingest and read API: a thin async FastAPI ingress over the directory and shards."""

# No `from __future__ import annotations` here: FastAPI must see real types on the Serve
# ingress methods (with string annotations it took `request: Request` for a query parameter).

import logging
import os
from datetime import UTC, datetime
from typing import Any

import orjson
import ray
from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import Response
from ray import serve

from actors.handles import directory
from cellmon.validation import Limits, parse_batch
from serve_app.auth import TokenCache, bearer_token, require
from serve_app.body import json_items, status_for, unavailable
from serve_app.handoff import Handoff

log = logging.getLogger("cellmon.ingest")

api = FastAPI(
    title="Cell Monitor",
    version="1",
    description="Live learning analytics for Jupyter classes: event ingest and classroom reads.",
)


@serve.deployment(ray_actor_options={"num_cpus": 0}, max_ongoing_requests=200)
@serve.ingress(api)
class Ingest:
    """Validates, authorizes and hands each batch to its classroom's shard in one actor call."""

    def __init__(self, namespace: str, limits: dict[str, int], max_body_bytes: int) -> None:
        self._directory = directory(namespace)
        self._limits = Limits(**limits)
        self._max_body = max_body_bytes
        self._tokens = TokenCache(lambda digest: self._directory.resolve.remote(digest))
        self._shards: dict[str, Any] = {}
        self._handoff = Handoff()

    @api.get("/healthz")
    async def healthz(self) -> dict[str, Any]:
        """Liveness of this replica, with hand-offs still running."""
        return {
            "status": "ok",
            "replica_pid": os.getpid(),
            "handoffs_in_flight": self._handoff.in_flight,
        }

    @api.post("/api/v1/events", status_code=202)
    async def post_events(
        self, request: Request, authorization: str | None = Header(None)
    ) -> Response:
        """Accept a batch (JSON array, or one object) of v1 or legacy camelCase events."""
        return await self._ingest(request, bearer_token(authorization))

    @api.post("/c/{token}/api/v1/events", status_code=202, include_in_schema=False)
    async def post_events_legacy(self, request: Request, token: str) -> Response:
        """For the existing extension, which cannot send headers: the token is in its URL."""
        return await self._ingest(request, token)

    @api.get("/api/v1/classrooms/{classroom_id}")
    async def classroom(
        self,
        classroom_id: str,
        authorization: str | None = Header(None),
        activity_minutes: int = Query(60, ge=1, le=7 * 24 * 60),
    ) -> dict[str, Any]:
        """The classroom's live aggregate: summary, help queue, students, teams, cells."""
        shard = await self._instructor_shard(authorization, classroom_id)
        snapshot: dict[str, Any] = await self._read(
            shard.snapshot.remote(classroom_id, activity_minutes)
        )
        return snapshot

    @api.get("/api/v1/classrooms/{classroom_id}/students/{student_id}")
    async def student(
        self, classroom_id: str, student_id: str, authorization: str | None = Header(None)
    ) -> dict[str, Any]:
        """One student's detail: counters, current cell, latest code and error, per-cell runs."""
        shard = await self._instructor_shard(authorization, classroom_id)
        detail: dict[str, Any] | None = await self._read(
            shard.student.remote(classroom_id, student_id)
        )
        if detail is None:
            raise HTTPException(404, f"no events from student {student_id!r} in {classroom_id!r}")
        return detail

    async def _read(self, call: Any) -> Any:
        """A shard read; a shard restarting or unable to reach its store answers 503."""
        try:
            return await call
        except ray.exceptions.RayError as error:
            log.warning("shard read failed: %s", error)
            raise unavailable("classroom state is loading") from None

    async def _instructor_shard(self, authorization: str | None, classroom_id: str) -> Any:
        caller = await self._tokens.caller(bearer_token(authorization))
        require(caller, "instructor", classroom_id)
        return await self._shard(classroom_id)

    async def _shard(self, classroom_id: str) -> Any:
        shard = self._shards.get(classroom_id)
        if shard is None:
            shard = await self._directory.locate.remote(classroom_id)
            if shard is None:
                raise HTTPException(404, f"no classroom {classroom_id!r}")
            self._shards[classroom_id] = shard
        return shard

    async def _ingest(self, request: Request, token: str) -> Response:
        caller = await self._tokens.caller(token)
        require(caller, "ingest")
        items = json_items(await self._body(request), self._limits.max_batch)
        parsed = parse_batch(
            items,
            classroom_id=caller.classroom_id,
            received_at=datetime.now(UTC),
            limits=self._limits,
        )
        result = {"applied": 0, "duplicates": 0}
        if parsed.events:
            result = await self._deliver(caller.classroom_id, parsed.events)
        rejected = [r.as_dict() for r in parsed.rejected]
        body = {
            "accepted": result["applied"],
            "duplicates": result["duplicates"],
            "rejected": rejected,
        }
        return Response(
            orjson.dumps(body),
            status_for(len(parsed.events), parsed.rejected),
            media_type="application/json",
        )

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self._max_body:
            raise HTTPException(413, f"body of {declared} bytes exceeds {self._max_body}")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self._max_body:
                raise HTTPException(413, f"body exceeds {self._max_body} bytes")
        return bytes(body)

    async def _deliver(self, classroom_id: str, events: list[Any]) -> dict[str, Any]:
        """The shard logs the batch durably, then applies it; 2xx only after the log write."""
        shard = await self._shard(classroom_id)
        try:
            result: dict[str, Any] = await self._handoff.run(
                lambda: shard.ingest.remote(classroom_id, events)
            )
        except ray.exceptions.RayError as error:
            log.warning("shard for %s unavailable: %s", classroom_id, error)
            raise unavailable("classroom state is restarting") from None
        if "error" in result:
            raise unavailable("the event log cannot be written right now")
        return result
