"""The server's own limits on slow and large requests (web/http_guard.py), over real sockets.

The platform is served as `panjereh serve` serves it (`uvicorn_options`), with small limits so
that every test ends in a few seconds; the clients are raw asyncio sockets, since no HTTP
client sends half a request line or a byte every two seconds.  Time bounds here only stop a
test that would otherwise hang; none asserts a speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from panjereh.config import Environment, Settings
from panjereh.web.app import PanjerehApp, create_app
from panjereh.web.http_guard import HttpGuard
from panjereh.web.serving import uvicorn_options
from tests.support import free_port

HANG = 8.0  # no answer in this time: the test fails instead of hanging
BIG_HEADER = 64 * 1024 * 1024


@dataclass
class Server:
    app: PanjerehApp
    port: int

    @property
    def guard(self) -> HttpGuard:
        return self.app.runtime.http_guard

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


@pytest.fixture
async def server(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Server]:
    database = tmp_path / "test.db"
    shutil.copyfile(sqlite_template, database)
    port = free_port()
    settings = Settings(
        env=Environment.DEVELOPMENT,
        data_dir=tmp_path / "var",
        database_url=f"sqlite+aiosqlite:///{database}",
        port=port,
        log_level="warning",
        http_max_header_bytes=4096,
        http_max_headers=20,
        http_header_timeout=1.0,
        http_body_timeout=3.0,
        http_keep_alive=1.0,
        http_max_receiving=4,
    )
    app = create_app(settings)
    uv = uvicorn.Server(uvicorn.Config(app, **uvicorn_options(settings)))
    task = asyncio.create_task(uv.serve())
    try:
        for _ in range(500):
            if uv.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert uv.started, "test server did not start"
        yield Server(app, port)
    finally:
        uv.should_exit = True
        await task


async def answer(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes (a reset after an answer ends it too)."""
    chunks = []
    async with asyncio.timeout(HANG):
        while True:
            try:
                chunk = await reader.read(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


async def test_a_64_mb_header_is_refused_with_431_without_being_read_whole(
    server: Server,
) -> None:
    reader, writer = await server.connect()
    sent = 0

    async def send_big_header() -> None:
        nonlocal sent
        writer.write(b"GET / HTTP/1.1\r\nHost: test\r\nX-Big: ")
        chunk = b"a" * 65536
        with contextlib.suppress(ConnectionError):
            while sent < BIG_HEADER:
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)

    sending = asyncio.create_task(send_big_header())
    raw = await answer(reader)
    async with asyncio.timeout(HANG):
        await sending
    writer.close()
    assert status_of(raw) == 431
    assert b"application/problem+json" in raw
    assert sent < BIG_HEADER // 2  # refused long before the client could send it all
    assert server.guard.refused["header-too-large"] == 1
    assert server.guard.receiving == 0


async def test_a_request_with_too_many_header_fields_is_refused_with_431(server: Server) -> None:
    reader, writer = await server.connect()
    fields = b"".join(b"X-Field-%d: %d\r\n" % (n, n) for n in range(30))
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\n" + fields + b"\r\n")
    raw = await answer(reader)
    writer.close()
    assert status_of(raw) == 431
    assert server.guard.refused["too-many-headers"] == 1


async def test_a_half_sent_request_line_is_answered_408_and_closed(server: Server) -> None:
    reader, writer = await server.connect()
    writer.write(b"GET /heal")
    raw = await answer(reader)
    writer.close()
    assert status_of(raw) == 408
    assert b'"code":"request-timeout"' in raw
    assert server.guard.refused["header-timeout"] == 1
    assert server.guard.receiving == 0


async def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    reader, writer = await server.connect()
    raw = await answer(reader)
    writer.close()
    assert raw == b""  # nothing was asked, so nothing is answered: the socket is just closed
    assert server.guard.refused["header-timeout"] == 1


async def test_a_body_sent_a_byte_every_two_seconds_is_answered_408(server: Server) -> None:
    reader, writer = await server.connect()
    writer.write(
        b"POST /exchange/v1/services/civil-registry.person.v1 HTTP/1.1\r\nHost: test\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )

    async def trickle() -> None:
        with contextlib.suppress(ConnectionError):
            for _ in range(100):
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(2)

    trickling = asyncio.create_task(trickle())
    raw = await answer(reader)
    trickling.cancel()
    writer.close()
    assert status_of(raw) == 408
    assert server.guard.refused["body-timeout"] == 1
    assert server.guard.receiving == 0


async def test_an_idle_kept_alive_connection_is_closed(server: Server) -> None:
    reader, writer = await server.connect()
    for _ in range(2):  # kept alive between the two
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        async with asyncio.timeout(HANG):
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
        assert status_of(head) == 200
    assert await answer(reader) == b""  # then closed by the server, idle
    writer.close()
    assert server.guard.receiving == 0
    assert sum(server.guard.refused.values()) == 0  # an idle close is no refusal


async def test_slow_clients_beyond_the_limit_are_shed_with_503(server: Server) -> None:
    slow = [await server.connect() for _ in range(4)]
    for _, writer in slow:
        writer.write(b"GET / HTTP/1.1\r\n")
        await writer.drain()
    for _ in range(100):
        if server.guard.receiving == 4:
            break
        await asyncio.sleep(0.01)
    assert server.guard.receiving == 4

    reader, writer = await server.connect()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
    raw = await answer(reader)
    writer.close()
    assert status_of(raw) == 503
    assert b"retry-after: 1\r\n" in raw
    assert server.guard.refused["overloaded"] == 1

    for _, writer in slow:
        writer.close()
    for _ in range(100):
        if server.guard.receiving == 0:
            break
        await asyncio.sleep(0.01)
    reader, writer = await server.connect()  # room again once they are gone
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    assert status_of(await answer(reader)) == 200
    writer.close()


async def test_the_refusals_are_in_the_metrics(server: Server) -> None:
    reader, writer = await server.connect()
    writer.write(b"GET / HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 8192 + b"\r\n\r\n")
    assert status_of(await answer(reader)) == 431
    writer.close()
    reader, writer = await server.connect()
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    text = (await answer(reader)).decode()
    writer.close()
    assert 'panjereh_http_refused_total{reason="header-too-large"} 1.0' in text
    assert 'panjereh_http_refused_total{reason="body-timeout"} 0.0' in text
    assert "panjereh_http_receiving_connections 0.0" in text  # the scrape itself is all in
