"""The load generator's HTTP/1.1 client against a real local socket server: keep-alive,
chunked bodies, and a server that closes an idle connection."""

from __future__ import annotations

import asyncio

import pytest

from cellmon_cli.loadtest.wire import Connection, Endpoint, WireError

pytestmark = pytest.mark.integration


async def _serve(replies: list[bytes], close_after: int | None = None) -> tuple[int, list[bytes]]:
    """A server answering each request with the next reply; returns its port and the requests."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served = 0
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            seen.append(head + await reader.readexactly(length))
            writer.write(replies[(len(seen) - 1) % len(replies)])
            await writer.drain()
            served += 1
            if close_after is not None and served >= close_after:
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server.sockets[0].getsockname()[1], seen


async def test_keep_alive_content_length_and_chunked_replies() -> None:
    fixed = b'HTTP/1.1 202 Accepted\r\nContent-Length: 14\r\n\r\n{"accepted":1}'
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    port, seen = await _serve([fixed, chunked])
    connection = Connection(Endpoint.parse(f"http://127.0.0.1:{port}/p"), {"X-Token": "t"})
    first = await connection.request("POST", "/events", b"[1]", {"Content-Type": "x"})
    second = await connection.request("GET", "/snap")
    assert (first.status, first.body) == (202, b'{"accepted":1}')
    assert (second.status, second.body) == (200, b"abcde")
    assert seen[0].startswith(b"POST /p/events HTTP/1.1\r\n") and seen[0].endswith(b"\r\n\r\n[1]")
    assert b"X-Token: t\r\n" in seen[0] and b"Content-Type: x\r\n" in seen[0]
    assert seen[1].startswith(b"GET /p/snap HTTP/1.1")
    connection.close()


async def test_a_connection_the_server_closed_is_reopened_once() -> None:
    reply = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
    port, seen = await _serve([reply], close_after=1)
    connection = Connection(Endpoint.parse(f"http://127.0.0.1:{port}"))
    for _ in range(3):
        assert (await connection.request("POST", "/e", b"{}")).status == 204
    assert len(seen) == 3
    connection.close()


async def test_nobody_listening_is_a_wire_error() -> None:
    connection = Connection(Endpoint.parse("http://127.0.0.1:1"))
    with pytest.raises(WireError, match=r"Connect|refused|Errno"):
        await connection.request("GET", "/")
