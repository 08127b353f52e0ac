"""Where InfluxDB is: a settings URL such as `http://127.0.0.1:8086/cellmon`, split into the
server's base URL and the database name."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:8086"
DEFAULT_DATABASE = "cellmon"


class InfluxTarget(NamedTuple):
    url: str
    database: str


def parse_influx_url(url: str, default_database: str = DEFAULT_DATABASE) -> InfluxTarget:
    """Split `http://host:8086/db` (or `influxdb://host:8086/db`) into base URL and database."""
    parts = urlsplit(url.strip())
    scheme = {"influxdb": "http", "influxdbs": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an InfluxDB URL (want http://host:port/database): {url!r}")
    database = parts.path.strip("/") or default_database
    if "/" in database:
        raise ValueError(f"the URL path must be just the database name: {url!r}")
    return InfluxTarget(f"{scheme}://{parts.netloc}", database)
