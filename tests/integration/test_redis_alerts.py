"""Alerts reach a Redis subscriber; a Redis outage never blocks or fails the publisher."""

from __future__ import annotations

import asyncio
import socket
import uuid

import orjson
import pytest
import redis.asyncio as aioredis

from actors.redis_publisher import RedisPublisher, channel

pytestmark = pytest.mark.integration
REDIS = "redis://127.0.0.1:6379/0"


async def test_a_subscriber_receives_each_alert_in_order() -> None:
    classroom = f"room-{uuid.uuid4().hex[:8]}"
    subscriber = aioredis.from_url(REDIS).pubsub()
    await subscriber.subscribe(channel(classroom))
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
