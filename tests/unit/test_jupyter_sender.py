"""The sender's rules, one test per answer: only what the server judged leaves the spool.

An httpx MockTransport plays the ingest's answers; 2xx/403/422 bodies are built with the ingest's
own `status_for` and `Rejection.as_dict`, so a change to the server's answers shows up here."""

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

from cellmon.backoff import MAX_RETRY_AFTER_S
from cellmon.validation import Rejection
from jupyter_ext.answers import TOKEN_REFUSED
from jupyter_ext.sender import Sender
from jupyter_ext.spool import Spool
from serve_app.body import status_for
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.unit
Answer = Callable[[httpx.Request], httpx.Response]


def event(n: int) -> dict[str, Any]:
    return {"event_id": f"e{n}", "type": "help", "student_id": "ana", "time": "2026-11-27T10:00Z"}


def ids(spool: Spool) -> list[str]:
    return [e["event_id"] for _, e in spool.peek(1000)]


def posted_ids(request: httpx.Request) -> list[str]:
    return [e["event_id"] for e in json.loads(request.content)]


def ingest(rejected: Callable[[list[str]], list[Rejection]] = lambda _: []) -> Answer:
    """The ingest's answer as `serve_app.pipeline` builds it: all but `rejected` are stored."""

    def answer(request: httpx.Request) -> httpx.Response:
        batch = posted_ids(request)
        refused = rejected(batch)
        body = {
            "accepted": len(batch) - len(refused),
            "duplicates": 0,
            "rejected": [r.as_dict() for r in refused],
        }
        return httpx.Response(status_for(len(batch) - len(refused), refused), json=body)

    return answer


def refuse(*event_ids: str, kind: Any = "invalid", reason: str = "bad") -> Answer:
    return ingest(
        lambda batch: [Rejection(i, reason, kind, e) for i, e in enumerate(batch) if e in event_ids]
    )


def sender_for(
    tmp_path: Path, answer: Answer, batch_size: int = 10, events: int = 0, **kwargs: Any
) -> tuple[Sender, Spool, list[list[str]]]:
    spool = Spool(tmp_path / "s.sqlite")
    for n in range(events):
        spool.put(event(n))
    posted: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer tok"
        posted.append(posted_ids(request))
        return answer(request)

    sender = Sender(
        spool,
        "http://ingest",
        "tok",
        batch_size=batch_size,
        transport=httpx.MockTransport(handler),
        rng=random.Random(1),
        **kwargs,
    )
    return sender, spool, posted


def send(sender: Sender, times: int = 1) -> list[float]:
    return [asyncio.run(sender.send_once()) for _ in range(times)]


def test_batches_by_size_and_deletes_what_was_acknowledged(tmp_path: Path) -> None:
    sender, spool, posted = sender_for(tmp_path, ingest(), batch_size=2, events=5)
    send(sender, 3)
    assert posted == [["e0", "e1"], ["e2", "e3"], ["e4"]] and spool.count() == 0
    assert sender.status.connected is True and sender.status.sent == 5


def test_per_item_rejections_in_a_2xx_are_final_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    answer = refuse("e1", reason="classroom is full", kind="full")
    sender, spool, _ = sender_for(tmp_path, answer, events=3)
    with caplog.at_level(logging.WARNING):
        send(sender)
    assert spool.count() == 0
    assert (sender.status.sent, sender.status.refused) == (2, 1)
    assert "e1 (full): classroom is full" in caplog.text


@pytest.mark.parametrize("kind", ["invalid", "forbidden"])
def test_422_or_403_naming_every_item_removes_them(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    sender, spool, _ = sender_for(tmp_path, refuse("e0", "e1", kind=kind, reason="nope"), events=2)
    with caplog.at_level(logging.WARNING):
        assert send(sender) == [0.0]
    assert spool.count() == 0 and sender.status.refused == 2
    assert sender.status.unauthorized is False and caplog.text.count(": nope") == 2


def test_a_refusal_removes_only_the_items_it_names(tmp_path: Path) -> None:
    body = {"accepted": 0, "duplicates": 0, "rejected": [{"index": 1, "event_id": "e1"}]}
    sender, spool, _ = sender_for(tmp_path, lambda r: httpx.Response(422, json=body), events=3)
    send(sender)
    assert ids(spool) == ["e0", "e2"]


@pytest.mark.parametrize(
    "rejected",
    [
        [{"index": 0, "event_id": "not-in-this-batch"}],
        [{"index": 7}],
        [{"index": True}],
        ["e0"],
        [],
    ],
)
def test_a_refusal_that_names_nothing_of_the_batch_keeps_it(
    tmp_path: Path, rejected: list[Any]
) -> None:
    body = {"accepted": 0, "duplicates": 0, "rejected": rejected}
    sender, spool, _ = sender_for(tmp_path, lambda r: httpx.Response(422, json=body), events=2)
    send(sender)
    assert spool.count() == 2 and sender.status.connected is False


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (404, "server URL looks wrong: 404"),
        (405, "server URL looks wrong: 405"),
        (307, "server URL redirects (307): check the URL"),
        (400, "server refused the batch: 400"),
        (409, "server refused the batch: 409"),
        (422, "server refused the batch: 422"),
        (429, "server busy or down: 429"),
        (500, "server busy or down: 500"),
        (503, "server busy or down: 503"),
    ],
)
def test_other_answers_keep_the_spool_back_off_and_say_why(
    tmp_path: Path, code: int, cause: str
) -> None:
    page = "<html><body>Not Found</body></html>"
    sender, spool, _ = sender_for(tmp_path, lambda r: httpx.Response(code, text=page), events=2)
    delays = send(sender, 4)
    assert spool.count() == 2 and all(b > a for a, b in itertools.pairwise(delays))
    assert sender.status.connected is False and sender.status.cause == cause
    assert "Not Found" in (sender.status.last_error or "")
    assert sender.status.retry_in_s() is not None


def test_connection_errors_back_off_and_keep_events(tmp_path: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    sender, spool, _ = sender_for(tmp_path, down, events=1)
    delays = send(sender, 5)
    assert all(b > a for a, b in itertools.pairwise(delays)) and spool.count() == 1
    assert sender.status.cause == "cannot reach the server"
    assert "ConnectError" in (sender.status.last_error or "")


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("30", 30.0),
        ("99999999999", MAX_RETRY_AFTER_S),
        (format_datetime(datetime.now(UTC) + timedelta(days=400), usegmt=True), MAX_RETRY_AFTER_S),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER_S),
    ],
)
def test_retry_after_is_respected_up_to_a_cap(tmp_path: Path, header: str, wait: float) -> None:
    answer = lambda r: httpx.Response(503, headers={"Retry-After": header})  # noqa: E731
    sender, spool, _ = sender_for(tmp_path, answer, events=1)
    [delay] = send(sender)
    assert wait <= delay <= wait * 1.1 + 1  # a little jitter over it: a class does not stampede
    assert spool.count() == 1


@pytest.mark.parametrize("header", ["soon", "-5", "1.5", "Mon, 99 Foo 2026"])
def test_an_unreadable_retry_after_falls_back_to_backoff(tmp_path: Path, header: str) -> None:
    answer = lambda r: httpx.Response(429, headers={"Retry-After": header})  # noqa: E731
    sender, _, _ = sender_for(tmp_path, answer, events=1)
    assert 0 < send(sender)[0] <= sender.max_backoff_s


@pytest.mark.parametrize("code", [401, 403])
def test_a_refused_token_pauses_keeps_everything_and_says_so(tmp_path: Path, code: int) -> None:
    body = {"detail": "unknown token"}
    answer = lambda r: httpx.Response(code, json=body)  # noqa: E731
    sender, spool, _ = sender_for(tmp_path, answer, events=2, token_recheck_s=123.0)
    assert send(sender) == [123.0]
    assert spool.count() == 2 and sender.status.unauthorized is True
    assert sender.status.cause == TOKEN_REFUSED


async def test_sending_resumes_by_itself_when_the_token_is_accepted_again(tmp_path: Path) -> None:
    """The real loop: 401 twice (a token rotation, say), then accepted, without a restart."""
    answers = iter([httpx.Response(401, text="unknown token")] * 2)
    stored = ingest()
    answer = lambda r: next(answers, None) or stored(r)  # noqa: E731
    sender, spool, posted = sender_for(tmp_path, answer, events=3, token_recheck_s=0.05)
    sender.start()
    try:
        await async_wait_until(lambda: sender.status.unauthorized)
        await async_wait_until(lambda: spool.count() == 0)
    finally:
        await sender.stop()
    assert len(posted) == 3 and sender.status.unauthorized is False
    assert sender.status.connected is True and sender.status.cause is None


def test_new_events_do_not_cut_a_wait_short(tmp_path: Path) -> None:
    sender, spool, _ = sender_for(tmp_path, lambda r: httpx.Response(503), batch_size=2, events=1)
    send(sender)
    spool.put(event(8))
    spool.put(event(9))
    sender.notify()
    assert not sender._wake.is_set()  # the backoff (and a Retry-After) stands


@pytest.mark.parametrize(
    "body",
    [b"<html>OK</html>", b"", b"[1, 2]", b'"accepted"', b'{"rejected": "none"}', b"[" * 100_000],
)
def test_a_2xx_with_an_unexpected_body_counts_as_stored_and_says_so(
    tmp_path: Path, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    sender, spool, _ = sender_for(tmp_path, lambda r: httpx.Response(200, content=body), events=2)
    with caplog.at_level(logging.WARNING):
        assert send(sender) == [sender.interval_s]  # no hot loop, no exception
    assert spool.count() == 0 and sender.status.connected is True
    assert "counted as stored" in caplog.text
    assert sender.status.cause == "unexpected answer from the server (200): check the URL"


def test_malformed_rejection_items_in_a_2xx_are_ignored(tmp_path: Path) -> None:
    body = {"rejected": [1, None, "x", {"index": "0"}, {"index": 99}, {"index": 1, "kind": 5}]}
    sender, spool, _ = sender_for(tmp_path, lambda r: httpx.Response(202, json=body), events=2)
    send(sender)
    assert spool.count() == 0 and (sender.status.sent, sender.status.refused) == (1, 1)
    assert sender.status.cause is None


def test_too_large_splits_down_to_one_event_and_drops_only_that(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        batch = posted_ids(request)
        return httpx.Response(413) if "e1" in batch else ingest()(request)  # e1 is too big

    sender, spool, posted = sender_for(tmp_path, answer, batch_size=4, events=4)
    with caplog.at_level(logging.WARNING):
        for _ in range(12):
            send(sender)
    assert spool.count() == 0 and sender.status.refused == 1 and sender.status.sent == 3
    halves = [["e0", "e1", "e2", "e3"], ["e0", "e1"], ["e0"], ["e1", "e2", "e3"], ["e1"]]
    assert posted == [*halves, ["e2", "e3"]]
    assert "event e1 (too_large)" in caplog.text


def test_text_that_utf8_cannot_carry_does_not_block_the_spool(tmp_path: Path) -> None:
    sender, spool, posted = sender_for(tmp_path, ingest())
    spool.put({**event(1), "error_value": "lone \ud800 surrogate"})
    send(sender)
    assert spool.count() == 0 and posted == [["e1"]]
