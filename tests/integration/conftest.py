"""Integration tier: real services on 127.0.0.1, started before the tests (never skipped)."""

from __future__ import annotations

import os

import httpx
import pytest

from actors.adapters.influx.target import parse_influx_url
from tests.support.fixtures import machine_database, private_postgres

__all__ = ["machine_database", "private_postgres"]  # fixtures for this tier


@pytest.fixture(scope="session")
def influx_url() -> str:
    """InfluxDB as a settings URL (`http://host:port/database`); fails if it does not answer."""
    url = os.environ.get("CELLMON_INFLUX_URL", "http://127.0.0.1:8086/cellmon")
    ping = f"{parse_influx_url(url).url}/ping"
    try:
        answered = httpx.get(ping, timeout=5).status_code == 204
    except httpx.HTTPError:
        answered = False
    if not answered:
        pytest.fail(
            f"InfluxDB does not answer at {ping}: run `scripts/influxdb.sh start` first",
            pytrace=False,
        )
    return url
