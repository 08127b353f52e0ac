"""The demo's embedded Redis: help alerts on a laptop with no Redis, locked to its owner."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from cellmon.settings import Settings
from cellmon_cli import stack
from cellmon_cli.embedded_redis import (
    SECRET_FILE,
    SUBDIR,
    redis_reachable,
    start_embedded_redis,
    stop_embedded_redis,
)
from streamlit_dashboard.alert_feed import AlertFeed
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    """A state dir whose embedded Redis, if a test started one, is stopped afterwards."""
    try:
        yield tmp_path
    finally:
        stop_embedded_redis(tmp_path)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # closed once the socket is: nothing listens


def test_the_machine_redis_is_reachable_and_a_closed_port_is_not() -> None:
    assert redis_reachable("redis://127.0.0.1:6379/0")
    assert not redis_reachable(closed_port_url(), timeout_s=0.5)


def test_with_no_redis_the_demo_starts_its_own_and_alerts_go_through_it(state_dir: Path) -> None:
    settings = Settings(alerts_url=closed_port_url(), state_dir=state_dir)
    url = stack.reachable_alerts(settings).alerts_url
    assert url != settings.alerts_url and redis_reachable(url)
    feed = AlertFeed(url)
    try:
        assert feed.ready.wait(10)
        redis.Redis.from_url(url).publish("cellmon:room:alerts", b'{"kind": "help_raised"}')
        [alert] = wait_until(lambda: feed.since("room", 0), 10, "the alert via embedded Redis")
        assert alert["kind"] == "help_raised"
    finally:
        feed.close()
    assert stack.reachable_alerts(settings.model_copy(update={"alerts_url": url})).alerts_url == url


def test_the_embedded_redis_wants_its_password_and_keeps_it_off_the_command_line(
    state_dir: Path,
) -> None:
    url = start_embedded_redis(state_dir)
    assert start_embedded_redis(state_dir) == url, "a second start reuses the running server"
    secret = (state_dir / SECRET_FILE).read_text().strip()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=port).ping()
    for path in (state_dir / SECRET_FILE, state_dir / SUBDIR / "redis.conf"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    pid = int((state_dir / SUBDIR / "redis.pid").read_text())
    assert secret.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert stop_embedded_redis(state_dir) and not redis_reachable(url, timeout_s=0.5)
    assert not stop_embedded_redis(state_dir), "nothing left to stop"


def test_a_configured_redis_that_refuses_our_password_is_not_replaced(state_dir: Path) -> None:
    url = start_embedded_redis(state_dir)
    wrong = "redis://:wrong@" + url.rsplit("@", 1)[1]
    settings = Settings(alerts_url=wrong, state_dir=state_dir)
    assert stack.reachable_alerts(settings).alerts_url == wrong, "a config error, shown as one"
