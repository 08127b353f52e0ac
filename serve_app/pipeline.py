"""The ingest's work, apart from how it is served: authorize, read and validate the body,
hand the batch to its classroom's shard in one actor call, answer.

The Serve deployment (`serve_app.ingest`) and the benchmark's bare-uvicorn baseline
(`benchmarks.baseline_ingest`) both run this, so the benchmark compares serving, not logic.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from fastapi import HTTPException, Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect

from actors.runtime.client import BUSY, MOVED, ActorClient, ActorsUnavailable, UnknownClassroom
from cellmon.settings import Settings
from cellmon.validation import (
    ParsedBatch,
    Rejection,
    Sender,
    holds_urgent,
    might_hold_unstorable,
    parse_batch,
)
from serve_app.auth import TokenCache, bearer_token, require, require_sender
from serve_app.body import json_items, status_for, too_many, unavailable
from serve_app.handoff import Handoff
from serve_app.shedding import Shedding

log = logging.getLogger("cellmon.ingest")
T = TypeVar("T")
# nginx's "client closed request": nobody reads it, but Serve's metrics count it apart from 5xx.
CLIENT_CLOSED = 499


class IngestPipeline:
    """Per-process state: the actor client, cached token answers, the coalescing hand-off."""

    def __init__(self, actors: ActorClient, settings: Settings) -> None:
        self.actors, self.limits = actors, settings.limits()
        self.tokens = TokenCache(actors.resolve, ttl_s=settings.token_cache_s)
        self.handoff = Handoff()
        self.shedding = Shedding.configured(settings)
        self.in_flight = 0  # ingest requests this process holds
        self.refused_busy = 0
        self.abandoned = 0  # requests whose client left before its body arrived

    async def ingest(self, request: Request, token: str) -> Response:
        """The whole POST: 202 with counts (and any rejections), or a 4xx/503 with a reason
        (429 when the classroom's own queue is too long, 503 when the whole ingest is)."""
        self.in_flight += 1
        try:
            return await self._ingest(request, token)
        finally:
            self.in_flight -= 1

    async def _ingest(self, request: Request, token: str) -> Response:
        caller = await self.tokens.caller(token)
        require_sender(caller)
        body = await self._body(request)
        items = json_items(body, self.limits.max_batch)
        urgent, now = holds_urgent(items), time.monotonic()
        queued_s = self.handoff.waited_s((caller.classroom_id, False), now)
        if not urgent and (refusal := self.shedding.refusal(self.in_flight, queued_s, now)):
            self.refused_busy += 1
            why = f"{refusal.reason}; a raised hand still goes through"
            raise too_many(why) if refusal.classroom_only else unavailable(why, retry_after_s=1)
        parsed = parse_batch(
            items,
            sender=Sender(caller.classroom_id, caller.student_id),
            received_at=datetime.now(UTC),
            limits=self.limits,
            clean_text=might_hold_unstorable(body),
        )
        result: dict[str, Any] = {"applied": 0, "duplicates": 0, "rejected": []}
        if parsed.events:
            result = await self._deliver(caller.classroom_id, parsed.events, urgent)
        rejected = merge_refusals(parsed, result.get("rejected", []))
        taken = len(parsed.events) + len(parsed.rejected) - len(rejected)
        answer = {
            "accepted": result["applied"],
            "duplicates": result["duplicates"],
            "rejected": [r.as_dict() for r in rejected],
        }
        if "inbox" in result:  # the sender's hand state and messages: its only way back
            answer["inbox"] = result["inbox"]
        return Response(
            orjson.dumps(answer), status_for(taken, rejected), media_type="application/json"
        )

    async def authorize_reader(self, authorization: str | None, classroom_id: str) -> None:
        """401/403 unless the caller's instructor token may read the classroom."""
        caller = await self.tokens.caller(bearer_token(authorization))
        require(caller, "instructor", classroom_id)

    async def read(self, call: Awaitable[T]) -> T:
        """A shard read; an unknown classroom is 404, a shard restarting or unable to reach its
        store 503."""
        try:
            return await call
        except UnknownClassroom as error:
            raise HTTPException(404, str(error)) from None
        except ActorsUnavailable as error:
            log.warning("shard read failed: %s", error)
            raise unavailable("classroom state is loading") from None

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.limits.max_body_bytes:
            raise HTTPException(
                413, f"body of {declared} bytes exceeds {self.limits.max_body_bytes}"
            )
        body = bytearray()
        try:
            async for chunk in request.stream():
                body += chunk
                if len(body) > self.limits.max_body_bytes:
                    raise HTTPException(413, f"body exceeds {self.limits.max_body_bytes} bytes")
        except ClientDisconnect:
            # A client that gave up while the request queued (a load generator stopping, a
            # Jupyter's timeout): an answer, not an exception, or Serve logs a traceback for
            # each, a storm of them at the end of every overload, when CPU is scarcest.
            self.abandoned += 1
            raise HTTPException(CLIENT_CLOSED, "the client closed the connection") from None
        return bytes(body)

    async def _deliver(self, classroom_id: str, events: list[Any], urgent: bool) -> dict[str, Any]:
        """The shard logs the batch durably, then applies it; 2xx only after the log write.
        An urgent batch (a hand) has its own lane: it never waits for a call of cell runs."""

        async def send_many(batches: list[list[Any]]) -> list[dict[str, Any]]:
            return await self.actors.ingest_batches(classroom_id, batches)

        try:
            result: dict[str, Any] = await self.handoff.deliver(
                (classroom_id, urgent), events, send_many
            )
        except UnknownClassroom as error:  # the token outlived its classroom
            raise HTTPException(404, str(error)) from None
        except ActorsUnavailable as error:
            log.warning("shard for %s unavailable: %s", classroom_id, error)
            raise unavailable("classroom state is restarting") from None
        finally:
            self.shedding.record_done(time.monotonic(), self.in_flight - 1)
        if result.get("error") == MOVED:
            raise unavailable("the classroom is moving to another shard")
        if result.get("error") == BUSY:
            self.refused_busy += 1
            raise too_many("this classroom's queue is full")
        if "error" in result:
            raise unavailable("the event log cannot be written right now")
        return result


def merge_refusals(parsed: ParsedBatch, refused: list[list[Any]]) -> list[Rejection]:
    """Validation's rejections plus the shard's ([position among the events, kind, reason]),
    in request order, each with its index in the request."""
    from_shard = [
        Rejection(parsed.indices[pos], reason, kind, parsed.events[pos].event_id)
        for pos, kind, reason in refused
    ]
    return sorted([*parsed.rejected, *from_shard], key=lambda r: r.index)
