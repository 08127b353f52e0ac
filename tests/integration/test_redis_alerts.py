"""Alerts reach a Redis subscriber; a Redis outage never blocks or fails the publisher."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import uuid
from collections.abc import Iterator

import orjson
import pytest
import redis.asyncio as aioredis

from actors.adapters.alerts.redis import RedisPublisher
from cellmon.views import alert_channel
from streamlit_dashboard.alert_feed import AlertFeed
from tests.support.waiting import async_wait_until, wait_until

pytestmark = pytest.mark.integration
REDIS = "redis://127.0.0.1:6379/0"


async def test_a_subscriber_receives_each_alert_in_order() -> None:
    classroom = f"room-{uuid.uuid4().hex[:8]}"
    subscriber = aioredis.from_url(REDIS).pubsub()
    await subscriber.subscribe(alert_channel(classroom))
    await subscriber.get_message(timeout=1)  # the subscribe confirmation
    publisher = RedisPublisher(REDIS)
    for n in range(3):
        publisher.publish(classroom, {"kind": "help_raised", "student_id": f"s{n}"})
    received = []
    while len(received) < 3:
        message = await subscriber.get_message(ignore_subscribe_messages=True, timeout=2)
        assert message is not None, f"only {received} arrived"
        received.append(orjson.loads(message["data"])["student_id"])
    assert received == ["s0", "s1", "s2"]
    # The subscriber can see the last message before the publisher's await of it returns.
    await async_wait_until(lambda: publisher.published == 3, 5, "the publisher to count 3")
    await subscriber.aclose()


async def test_redis_down_never_blocks_and_drops_are_counted() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    publisher = RedisPublisher(f"redis://127.0.0.1:{dead}/0")
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(100):
        publisher.publish("room", {"kind": "help_raised", "student_id": f"s{n}"})
    assert loop.time() - started < 0.1
    await async_wait_until(lambda: publisher.dropped == 100, 10, "100 drops")
    assert (publisher.published, publisher.dropped) == (0, 100)


def test_the_dashboard_feed_skips_foreign_messages_and_keeps_going() -> None:
    """Redis is shared: a message on a matching channel that is not an alert (not JSON, not an
    object, no kind) is skipped; the next real alert still reaches the page."""
    import redis as sync_redis

    classroom = f"room-{uuid.uuid4().hex[:8]}"
    feed = AlertFeed(REDIS)
    assert feed.ready.wait(5)  # set once Redis confirmed the pattern subscription
    client = sync_redis.Redis.from_url(REDIS)
    for junk in (b"not json", b"[1, 2]", b'{"student_id": "s1"}'):
        client.publish(alert_channel(classroom), junk)
    client.publish(
        alert_channel(classroom), orjson.dumps({"kind": "help_raised", "student_id": "s2"})
    )
    alerts = wait_until(lambda: feed.since(classroom, 0), 5, "the real alert")
    assert [(a["kind"], a["student_id"], a["classroom_id"]) for a in alerts] == [
        ("help_raised", "s2", classroom)
    ]
    client.close()
    feed.close()


def test_the_dashboard_feed_drops_a_forgotten_students_alerts() -> None:
    """The shard publishes `student_forgotten`: the feed keeps nothing of that student, not
    even that message, and the others' alerts stay."""
    import redis as sync_redis

    classroom = f"room-{uuid.uuid4().hex[:8]}"
    feed = AlertFeed(REDIS)
    assert feed.ready.wait(5)
    client = sync_redis.Redis.from_url(REDIS)
    for student in ("zq-4711", "bo", "zq-4711"):
        alert = {"kind": "help_raised", "student_id": student, "name": "Zelda Quux"}
        client.publish(alert_channel(classroom), orjson.dumps(alert))
    wait_until(lambda: len(feed.since(classroom, 0)) == 3, 5, "three alerts")
    forgotten = {"kind": "student_forgotten", "student_id": "zq-4711", "name": None}
    client.publish(alert_channel(classroom), orjson.dumps(forgotten))
    client.publish(
        alert_channel(classroom), orjson.dumps({"kind": "help_raised", "student_id": "cy"})
    )

    kept = wait_until(
        lambda: (a := feed.since(classroom, 0))[-1]["student_id"] == "cy" and a, 5, "the next alert"
    )
    assert [a["student_id"] for a in kept] == ["bo", "cy"]
    client.close()
    feed.close()


@pytest.fixture
def locked_redis() -> Iterator[str]:
    """A Redis of this test's own that refuses clients without its password; yields its URL
    without the password."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    command += ["--appendonly", "no", "--requirepass", SECRET]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _answers(port), 20, "the private Redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


SECRET = "s3cret-for-this-test"


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_alerts_go_through_a_redis_that_wants_a_password(locked_redis: str) -> None:
    with_password = locked_redis.replace("redis://", f"redis://:{SECRET}@")
    feed = AlertFeed(with_password)
    assert feed.ready.wait(10)

    async def publish(url: str) -> RedisPublisher:
        publisher = RedisPublisher(url)
        publisher.publish("room", {"kind": "help_raised", "student_id": "s1", "name": None})
        await async_wait_until(lambda: publisher.published or publisher.dropped, 10)
        return publisher

    assert asyncio.run(publish(locked_redis)).dropped == 1  # no password: refused, counted
    assert asyncio.run(publish(with_password)).published == 1
    [alert] = wait_until(lambda: feed.since("room", 0), 10, "the alert in the feed")
    assert alert["student_id"] == "s1"
    feed.close()  # before the private Redis goes: no thread left retrying it
