"""Help alerts from Redis pub/sub, collected by a background thread for the dashboard to poll.

Each alert gets a local, increasing id so a page can ask for "what is new since id N" every
second; a few hundred recent alerts are kept per classroom. If Redis is down the thread keeps
retrying and the page still has the help queue from the snapshot.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import defaultdict, deque
from typing import Any

import orjson
import redis

from cellmon.views import ALERT_CHANNEL_PATTERN

log = logging.getLogger("cellmon.dashboard")
PATTERN = ALERT_CHANNEL_PATTERN


class AlertFeed:
    """Subscribes to every classroom's alert channel; `since(classroom, after)` reads."""

    def __init__(self, url: str, keep: int = 300) -> None:
        self._url = url
        self._ids = itertools.count(1)
        self._alerts: dict[str, deque[dict[str, Any]]] = defaultdict(lambda: deque(maxlen=keep))
        self._lock = threading.Lock()
        self.ready = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="cellmon-alerts", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop listening (within about a second) and forget the Redis connection."""
        self._closed.set()
        self._thread.join(timeout=5)

    def since(self, classroom_id: str, after: int) -> list[dict[str, Any]]:
        """Alerts for the classroom with an id greater than `after`, oldest first."""
        with self._lock:
            return [a for a in self._alerts.get(classroom_id, ()) if a["id"] > after]

    def _listen(self) -> None:
        while not self._closed.is_set():
            client = redis.Redis.from_url(self._url, socket_timeout=None)
            try:
                with client.pubsub() as pubsub:  # type: ignore[no-untyped-call]  # untyped
                    pubsub.psubscribe(PATTERN)
                    while not self._closed.is_set():  # waits at most 1 s, so close() is heard
                        message = pubsub.get_message(timeout=1.0)
                        if message is None:
                            continue
                        if message["type"] == "psubscribe":  # Redis confirmed: nothing missed now
                            self.ready.set()
                        elif message["type"] == "pmessage":
                            self.take(message["channel"], message["data"])
            except (redis.RedisError, OSError) as error:
                log.warning("alert feed: %s; retrying", error)
                self._closed.wait(1)
            finally:
                client.close()

    def take(self, channel: bytes | str, data: bytes | str) -> bool:
        """Keep one published message if it is an alert. Redis is shared: anything else on a
        matching channel is skipped (and logged), never allowed to stop the feed."""
        name = channel.decode(errors="replace") if isinstance(channel, bytes) else channel
        prefix, _, rest = name.partition(":")
        classroom_id, _, suffix = rest.rpartition(":")
        try:
            alert = orjson.loads(data)
        except orjson.JSONDecodeError:
            alert = None
        if (prefix, suffix) != ("cellmon", "alerts") or not classroom_id:
            alert = None
        if not isinstance(alert, dict) or not isinstance(alert.get("kind"), str):
            log.warning("alert feed: skipped a message on %r that is not an alert", name)
            return False
        alert["classroom_id"] = classroom_id  # the channel says whose it is
        if alert["kind"] == "student_forgotten":  # keep nothing of them, not even this
            with self._lock:
                kept = self._alerts[classroom_id]
                mine = [a for a in kept if a.get("student_id") != alert.get("student_id")]
                kept.clear()
                kept.extend(mine)
            return False
        with self._lock:
            alert["id"] = next(self._ids)
            self._alerts[classroom_id].append(alert)
        return True
