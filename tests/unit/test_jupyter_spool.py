"""The durable spool and the sender's delivery rules, against a mocked ingest."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from jupyter_ext.sender import Sender, backoff_s, retry_after_s
from jupyter_ext.spool import Spool

pytestmark = pytest.mark.unit


def event(n: int) -> dict[str, Any]:
    return {"event_id": f"e{n}", "type": "help", "student_id": "ana", "time": "2026-11-27T10:00Z"}


def ids(spool: Spool) -> list[str]:
    return [e["event_id"] for _, e in spool.peek(1000)]


def test_full_spool_drops_the_oldest_counts_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path / "s.sqlite", max_events=3)
    with caplog.at_level(logging.WARNING):
        dropped = [spool.put(event(n)) for n in range(5)]
    assert dropped == [0, 0, 0, 1, 1]
    assert ids(spool) == ["e2", "e3", "e4"]
    assert spool.dropped == 2
    assert "dropped the 1 oldest" in caplog.text


def test_spool_survives_reopen_and_ignores_resent_ids(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite")
    for n in (1, 2, 2, 3):
        spool.put(event(n))
    spool.delete([seq for seq, _ in spool.peek(1)])
    spool.close()
    again = Spool(tmp_path / "s.sqlite")
    assert ids(again) == ["e2", "e3"] and again.count() == 2


def sender_for(
    tmp_path: Path, answer: Callable[[httpx.Request], httpx.Response], batch_size: int = 10
) -> tuple[Sender, Spool, list[list[str]]]:
    spool = Spool(tmp_path / "s.sqlite")
    posted: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer tok"
        posted.append([e["event_id"] for e in json.loads(request.content)])
        return answer(request)

    sender = Sender(
        spool,
        "http://ingest",
        "tok",
        batch_size=batch_size,
        transport=httpx.MockTransport(handler),
        rng=random.Random(1),
    )
    return sender, spool, posted


def accepted(request: httpx.Request) -> httpx.Response:
    return httpx.Response(202, json={"accepted": 1, "duplicates": 0, "rejected": []})


def test_batches_by_size_and_deletes_what_was_acknowledged(tmp_path: Path) -> None:
    sender, spool, posted = sender_for(tmp_path, accepted, batch_size=2)
    for n in range(5):
        spool.put(event(n))
    while spool.count():
        asyncio.run(sender.send_once())
    assert posted == [["e0", "e1"], ["e2", "e3"], ["e4"]]
    assert sender.status.connected is True and sender.status.sent == 5


def test_connection_errors_back_off_exponentially_and_keep_events(tmp_path: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    sender, spool, _ = sender_for(tmp_path, down)
    spool.put(event(1))
    delays = [asyncio.run(sender.send_once()) for _ in range(5)]
    assert all(b > a for a, b in itertools.pairwise(delays))  # grows
    assert spool.count() == 1 and sender.status.connected is False
    assert "cannot reach the ingest" in (sender.status.last_error or "")


def test_backoff_has_jitter_and_a_ceiling() -> None:
    rng = random.Random(3)
    samples = {backoff_s(4, 0.5, 60, rng) for _ in range(20)}
    assert len(samples) > 1 and all(2.0 <= s <= 4.0 for s in samples)
    assert backoff_s(30, 0.5, 60, rng) <= 60


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_is_respected(tmp_path: Path, code: int) -> None:
    sender, spool, _ = sender_for(
        tmp_path, lambda r: httpx.Response(code, headers={"Retry-After": "30"})
    )
    spool.put(event(1))
    assert asyncio.run(sender.send_once()) == 30
    assert spool.count() == 1


def test_retry_after_http_date() -> None:
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert retry_after_s(format_datetime(now + timedelta(seconds=12), usegmt=True), now) == 12
    assert retry_after_s("garbage") is None


def test_duplicates_and_rejects_leave_the_spool(tmp_path: Path) -> None:
    body = {"accepted": 0, "duplicates": 1, "rejected": [{"index": 1, "event_id": "e2"}]}
    sender, spool, _ = sender_for(tmp_path, lambda r: httpx.Response(202, json=body))
    spool.put(event(1))
    spool.put(event(2))
    asyncio.run(sender.send_once())
    assert spool.count() == 0


def test_unprocessable_batch_is_dropped(tmp_path: Path) -> None:
    body = {"accepted": 0, "duplicates": 0, "rejected": [{"index": 0, "reason": "bad"}]}
    sender, spool, _ = sender_for(tmp_path, lambda r: httpx.Response(422, json=body))
    spool.put(event(1))
    asyncio.run(sender.send_once())
    assert spool.count() == 0


def test_too_big_splits_the_batch(tmp_path: Path) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        many = len(json.loads(request.content)) > 1
        return httpx.Response(413) if many else accepted(request)

    sender, spool, posted = sender_for(tmp_path, answer, batch_size=4)
    for n in range(4):
        spool.put(event(n))
    for _ in range(8):
        asyncio.run(sender.send_once())
    assert spool.count() == 0
    assert posted[:3] == [["e0", "e1", "e2", "e3"], ["e0", "e1"], ["e0"]]


def test_refused_token_stops_sending_and_shows(tmp_path: Path) -> None:
    sender, spool, _ = sender_for(tmp_path, lambda r: httpx.Response(401, text="unknown token"))
    spool.put(event(1))
    asyncio.run(sender.send_once())
    assert sender.status.unauthorized is True and spool.count() == 1
    assert "refused the token" in (sender.status.last_error or "")
