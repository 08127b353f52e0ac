"""InfluxQL through the v1 `/query` API (which InfluxDB 1.x, 2.x and 3.x all accept), with the
quoting a tag value needs."""

from __future__ import annotations

from typing import Any

import httpx


class InfluxQueryError(RuntimeError):
    """InfluxDB answered a query with an error."""


def influxql_string(value: str) -> str:
    """An InfluxQL single-quoted string literal for `value` (for WHERE tag = '...')."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def query(
    url: str,
    database: str,
    influxql: str,
    *,
    epoch: str | None = None,
    timeout_s: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[dict[str, Any]]:
    """Run InfluxQL via the v1 `/query` API; one dict per row: measurement, tags, then columns.

    `epoch` ("ms", "s", ...) returns times as integers instead of RFC 3339 strings. Raises
    `InfluxQueryError` if InfluxDB reports an error for the request or any statement.
    """
    params = {"db": database, "q": influxql}
    if epoch is not None:
        params["epoch"] = epoch
    async with httpx.AsyncClient(timeout=timeout_s, transport=transport) as client:
        response = await client.post(f"{url.rstrip('/')}/query", data=params)
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise InfluxQueryError(f"HTTP {response.status_code}: {response.text[:500]}")
    if "error" in payload:
        raise InfluxQueryError(str(payload["error"]))
    response.raise_for_status()
    rows: list[dict[str, Any]] = []
    for result in payload.get("results", []):
        if "error" in result:
            raise InfluxQueryError(str(result["error"]))
        for series in result.get("series", []):
            head = {"measurement": series.get("name"), **series.get("tags", {})}
            columns = series["columns"]
            rows.extend(
                {**head, **dict(zip(columns, values, strict=True))} for values in series["values"]
            )
    return rows
