"""InfluxWriter's retry policy against scripted HTTP answers (httpx.MockTransport, no network)."""

from __future__ import annotations

import httpx
import pytest

from actors.adapters.influx.target import parse_influx_url
from actors.adapters.influx.writer import InfluxWriter

pytestmark = pytest.mark.unit


def scripted(*answers: tuple[int, str]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport giving these answers in turn (the last one repeats) and recording requests."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, body = answers[min(len(seen), len(answers)) - 1]
        return httpx.Response(status, text=body)

    return httpx.MockTransport(handle), seen


def writer(transport: httpx.MockTransport, **options: object) -> InfluxWriter:
    return InfluxWriter(
        "http://influx.test:8086/",
        "db1",
        retry_base_s=0.001,
        retry_max_s=0.002,
        transport=transport,
        **options,  # type: ignore[arg-type]
    )


async def test_5xx_and_429_are_retried_until_written() -> None:
    transport, seen = scripted((503, "busy"), (429, "slow down"), (204, ""))
    w = writer(transport)
    w.add_many(["m v=1i 1", "m v=2i 2"])
    await w.flush()
    assert w.counters["written"] == 2
    assert w.counters["retried"] == 2
    assert w.counters["dropped"] == 0
    assert len(seen) == 3
    sent = seen[-1]
    assert sent.url.path == "/write"
    assert dict(sent.url.params) == {"db": "db1", "precision": "ns"}
    assert sent.content == b"m v=1i 1\nm v=2i 2"
    await w.close()


async def test_a_batch_is_dropped_after_max_retries() -> None:
    transport, seen = scripted((500, "down"))
    w = writer(transport, max_retries=2, batch_size=3)
    w.add_many([f"m v={i}i {i}" for i in range(7)])  # batches of 3, 3, 1
    await w.flush()
    assert len(seen) == 3 * 3
    assert w.counters["dropped"] == 7
    assert w.counters["retried"] == 3 * 2
    assert w.counters["written"] == 0
    assert w.last_error == "HTTP 500: down"
    await w.close()


async def test_a_4xx_without_a_partial_write_report_loses_the_whole_batch() -> None:
    transport, seen = scripted((404, '{"error":"database not found: \\"db1\\""}'))
    w = writer(transport)
    w.add_many(["m v=1i 1", "m v=2i 2"])
    await w.flush()
    assert len(seen) == 1
    assert w.counters["dropped"] == w.counters["rejected"] == 2
    assert w.counters["written"] == 0
    await w.close()


def test_settings_urls() -> None:
    assert parse_influx_url("http://127.0.0.1:8086/cellmon") == ("http://127.0.0.1:8086", "cellmon")
    assert parse_influx_url("influxdb://h:1/x/") == ("http://h:1", "x")
    assert parse_influx_url("https://h") == ("https://h", "cellmon")
    for bad in ("127.0.0.1:8086", "ftp://h/db", "http://h/a/b"):
        with pytest.raises(ValueError):
            parse_influx_url(bad)
