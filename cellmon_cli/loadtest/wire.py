"""A minimal keep-alive HTTP/1.1 client for load generation.

httpx costs a few hundred microseconds of CPU per request; on a 2-core machine that puts the
load generator, not the server, at the limit long before 1,000 requests/s. This client writes
pre-encoded requests on one persistent connection and reads just enough of each response
(status, headers, a Content-Length or chunked body) to keep the connection in step.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit


class WireError(Exception):
    """The connection broke, or the server sent something that is not HTTP/1.1."""


@dataclass(frozen=True)
class Endpoint:
    """Where a base URL points: host, port, TLS, and the path prefix to put before routes."""

    host: str
    port: int
    tls: bool
    prefix: str

    @classmethod
    def parse(cls, base_url: str) -> Endpoint:
        """`http(s)://host[:port][/prefix]`."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// URL, got {base_url!r}")
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        return cls(parts.hostname, port, tls, parts.path.rstrip("/"))

    @property
    def host_header(self) -> str:
        default = 443 if self.tls else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


class Connection:
    """One persistent connection; requests on it are sequential (HTTP/1.1 without pipelining)."""

    def __init__(self, endpoint: Endpoint, headers: dict[str, str] | None = None) -> None:
        self.endpoint = endpoint
        fixed = {"Host": endpoint.host_header, "Connection": "keep-alive", **(headers or {})}
        self._fixed = "".join(f"{name}: {value}\r\n" for name, value in fixed.items()).encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Reply:
        """Send one request and read its whole reply; reconnects once if the server had closed."""
        head = f"{method} {self.endpoint.prefix}{path} HTTP/1.1\r\n".encode() + self._fixed
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        message = head + extra.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        fresh = self._writer is None
        try:
            return await self._exchange(message)
        except (WireError, OSError, asyncio.IncompleteReadError) as error:
            self.close()
            if fresh:
                raise WireError(f"{type(error).__name__}: {error}") from None
        try:  # an idle keep-alive connection the server closed: one retry on a new one
            return await self._exchange(message)
        except (WireError, OSError, asyncio.IncompleteReadError) as error:
            self.close()
            raise WireError(f"{type(error).__name__}: {error}") from None

    async def _exchange(self, message: bytes) -> Reply:
        if self._writer is None:
            tls = ssl.create_default_context() if self.endpoint.tls else None
            self._reader, self._writer = await asyncio.open_connection(
                self.endpoint.host, self.endpoint.port, ssl=tls
            )
        assert self._reader is not None
        self._writer.write(message)
        await self._writer.drain()
        return await _read_reply(self._reader)

    def close(self) -> None:
        """Drop the connection; the next request opens a new one."""
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def _read_reply(reader: asyncio.StreamReader) -> Reply:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].split(b"\r\n")
    try:
        status = int(status_line.split(b" ", 2)[1])
    except (IndexError, ValueError):
        raise WireError(f"not an HTTP status line: {status_line[:80]!r}") from None
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        return Reply(status, await _read_chunked(reader))
    length = int(headers.get(b"content-length", b"0"))
    return Reply(status, await reader.readexactly(length) if length else b"")


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # the empty trailer section
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)
