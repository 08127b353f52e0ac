"""Alerts reach a Redis subscriber; a Redis outage never blocks or fails the publisher."""

from __future__ import annotations

import asyncio
import socket
import uuid

import orjson
import pytest
import redis.asyncio as aioredis

from actors.adapters.alerts.redis import RedisPublisher
from cellmon.views import alert_channel

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
    assert received == ["s0", "s1", "s2"] and publisher.published == 3
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
    for _ in range(50):
        if publisher.dropped == 100:
            break
        await asyncio.sleep(0.1)
    assert (publisher.published, publisher.dropped) == (0, 100)


def test_the_dashboard_feed_skips_foreign_messages_and_keeps_going() -> None:
    """Redis is shared: a message on a matching channel that is not an alert (not JSON, not an
    object, no kind) is skipped; the next real alert still reaches the page."""
    import time

    import redis as sync_redis

    from streamlit_dashboard.alert_feed import AlertFeed

    classroom = f"room-{uuid.uuid4().hex[:8]}"
    feed = AlertFeed(REDIS)
    assert feed.ready.wait(5)
    time.sleep(0.2)  # the pattern subscription is in place once `ready` is set
    client = sync_redis.Redis.from_url(REDIS)
    for junk in (b"not json", b"[1, 2]", b'{"student_id": "s1"}'):
        client.publish(alert_channel(classroom), junk)
    client.publish(
        alert_channel(classroom), orjson.dumps({"kind": "help_raised", "student_id": "s2"})
    )
    deadline = time.monotonic() + 5
    while not (alerts := feed.since(classroom, 0)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(a["kind"], a["student_id"], a["classroom_id"]) for a in alerts] == [
        ("help_raised", "s2", classroom)
    ]
    client.close()
