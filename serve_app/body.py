"""Reading an ingest request body, and the status code its outcome earns. No Ray here."""

from __future__ import annotations

import json
from typing import Any

import orjson
from fastapi import HTTPException


def json_items(body: bytes, max_batch: int) -> list[Any]:
    """Parse the body: a JSON array of events or one event object."""
    data = _loads(body)
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise HTTPException(422, "body must be a JSON array of events or one event object")
    if len(data) > max_batch:
        raise HTTPException(413, f"batch of {len(data)} events exceeds {max_batch}")
    return data


def _loads(body: bytes) -> Any:
    """orjson, or the standard parser for what orjson refuses but JSON allows: a lone surrogate
    escape such as "\\ud800" (Python's own `json.dumps` writes those; validation then cleans
    them). Nesting deeper than orjson's 1,024 levels stays refused."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        if "surrogate" not in str(error):
            raise HTTPException(400, f"malformed JSON: {error}") from None
    try:
        return json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError) as error:
        raise HTTPException(400, f"malformed JSON: {error}") from None


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def status_for(accepted: int, rejected: list[Any]) -> int:
    """202 when anything was taken; 403 when all were another classroom's; 422 otherwise."""
    if accepted or not rejected:
        return 202
    return 403 if all(r.kind == "forbidden" for r in rejected) else 422


def unavailable(what: str, retry_after_s: int = 2) -> HTTPException:
    """503 with Retry-After: the client keeps the events and sends them again."""
    return HTTPException(
        503, f"{what}; nothing was lost, retry shortly", headers={"Retry-After": str(retry_after_s)}
    )


def too_many(what: str, retry_after_s: int = 1) -> HTTPException:
    """429 with Retry-After: one classroom sends faster than its share is applied. Its own
    limit, not the service's: other classrooms are unaffected, so a flood from one token is
    answered as a client's excess (4xx), never as the server failing (5xx)."""
    return HTTPException(
        429, f"{what}; nothing was lost, retry shortly", headers={"Retry-After": str(retry_after_s)}
    )
