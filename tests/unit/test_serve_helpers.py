"""The ingest's Ray-free pieces: the request-detached hand-off, tokens, body parsing."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import HTTPException

from actors.domain.registry import ClassroomRegistry, Grant, Resolved, hash_token
from serve_app.auth import Caller, TokenCache, bearer_token, require
from serve_app.body import json_items, status_for
from serve_app.handoff import Handoff
from tests.support.waiting import async_wait_until
from tests.unit.test_registry import create

pytestmark = pytest.mark.unit


async def test_a_cancelled_request_does_not_cancel_its_handoff() -> None:
    handoff, started, release, done = Handoff(), asyncio.Event(), asyncio.Event(), []

    async def shard_call(batches: list[str]) -> list[str]:
        started.set()
        await release.wait()
        done.extend(batches)
        return ["applied"] * len(batches)

    request = asyncio.create_task(handoff.deliver("room", "batch-1", shard_call))
    await started.wait()  # the actor call is in flight
    request.cancel()  # what Serve does when the HTTP client times out
    with pytest.raises(asyncio.CancelledError):
        await request
    assert handoff.in_flight == 1
    release.set()
    await async_wait_until(lambda: done == ["batch-1"] and handoff.in_flight == 0, 5)


async def test_batches_waiting_for_a_call_in_flight_go_together_in_the_next() -> None:
    handoff, calls, release = Handoff(), [], asyncio.Event()

    async def shard_call(batches: list[str]) -> list[str]:
        calls.append(list(batches))
        await release.wait()
        return [f"ok {b}" for b in batches]

    first = asyncio.create_task(handoff.deliver("room", "a", shard_call))
    await async_wait_until(lambda: calls == [["a"]], 5)  # a's call is in flight
    later = [asyncio.create_task(handoff.deliver("room", b, shard_call)) for b in "bcd"]
    other = asyncio.create_task(handoff.deliver("hall", "x", shard_call))
    await async_wait_until(lambda: calls == [["a"], ["x"]], 5)  # b, c, d queued behind a
    release.set()
    answers = await asyncio.gather(first, *later, other)
    assert answers == ["ok a", "ok b", "ok c", "ok d", "ok x"]
    assert calls == [["a"], ["x"], ["b", "c", "d"]]  # one call in flight per classroom
    assert handoff.in_flight == 0


async def test_handoff_returns_the_result_and_raises_the_error() -> None:
    handoff = Handoff()

    async def ok(batches: list[int]) -> list[int]:
        return [b * 7 for b in batches]

    async def broken(batches: list[int]) -> list[int]:
        raise RuntimeError("shard down")

    assert await handoff.deliver("room", 1, ok) == 7
    with pytest.raises(RuntimeError, match="shard down"):
        await handoff.deliver("room", 1, broken)
    assert await handoff.deliver("room", 2, ok) == 14  # the classroom is not stuck


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    for header in (None, "", "Basic abc", "Bearer ", "abc"):
        with pytest.raises(HTTPException) as error:
            bearer_token(header)
        assert error.value.status_code == 401


async def test_token_cache_resolves_once_and_refuses_unknown_tokens() -> None:
    registry = ClassroomRegistry()
    created = create(registry, "Intro to Python", None)
    calls: list[str] = []

    async def resolve(digest: str) -> Resolved | None:
        calls.append(digest)
        grant = registry.resolve(digest)
        return Resolved(grant, False) if grant else None

    cache = TokenCache(resolve)
    caller = await cache.caller(created["ingest_token"])
    assert caller == Caller("intro-to-python", "ingest")
    await cache.caller(created["ingest_token"])
    assert calls == [hash_token(created["ingest_token"])]
    with pytest.raises(HTTPException) as error:
        await cache.caller("cmi_forged")
    assert error.value.status_code == 401


async def test_a_flood_of_unknown_tokens_never_evicts_a_known_one() -> None:
    calls: list[str] = []

    async def resolve(digest: str) -> Resolved | None:
        calls.append(digest)
        return Resolved(Grant("c1", "ingest"), False) if digest == hash_token("cmi_real") else None

    cache = TokenCache(resolve, size=100)
    await cache.caller("cmi_real")
    for n in range(1_000):
        with pytest.raises(HTTPException):
            await cache.caller(f"cmi_forged-{n}")
    await cache.caller("cmi_real")
    assert calls.count(hash_token("cmi_real")) == 1  # still cached after 1,000 forgeries
    assert len(calls) == 1_001


def test_roles_and_classrooms_are_enforced() -> None:
    require(Caller("a", "instructor"), "instructor", "a")
    with pytest.raises(HTTPException, match="student's token") as wrong_role:
        require(Caller("a", "instructor"), "ingest")
    with pytest.raises(HTTPException, match="not 'b'") as wrong_room:
        require(Caller("a", "instructor"), "instructor", "b")
    assert wrong_role.value.status_code == wrong_room.value.status_code == 403


def test_body_parsing_and_status_codes() -> None:
    assert json_items(b'{"type": "help"}', 10) == [{"type": "help"}]
    assert json_items(b"[1, 2]", 10) == [1, 2]
    for body, code in ((b"[1,", 400), (b'"x"', 422), (b"[1, 2, 3]", 413)):
        with pytest.raises(HTTPException) as error:
            json_items(body, 2)
        assert error.value.status_code == code
    assert status_for(0, []) == 202
    assert status_for(1, ["anything"]) == 202
