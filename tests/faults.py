"""A small asyncio TCP fault proxy for tests (Toxiproxy is not available here).

It listens on 127.0.0.1 in front of a real upstream and does, per connection, whatever its
current fault says: pass the bytes through (after an optional delay), hang, drop, reset, send
garbage, or play a broken HTTP provider itself.  ``then`` queues faults for the next
connections (``proxy.then(Fault.DROP)`` drops the next one and goes back to ``fault``), and
``connections`` counts what it accepted, so a test can tell whether the provider was called.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType

GARBAGE = b"\x00\xffSSH-2.0-not-http\r\n\x1b[31m\xfe\xfd" * 8


class Fault(StrEnum):
    PASS = "pass"  # bytes both ways, after `delay_ms`
    HANG = "hang"  # accept, read, never answer
    DROP = "drop"  # close at once (FIN)
    RESET = "reset"  # close with RST (SO_LINGER 0)
    GARBAGE = "garbage"  # read the request, answer bytes that are not HTTP, close
    HTTP = "http"  # read the request, answer `answer`, close


@dataclass(frozen=True, slots=True)
class Answer:
    """What the proxy answers in `Fault.HTTP` mode, as a (broken) provider would."""

    status: int = 500
    body: bytes = b'{"error": "internal"}'
    content_type: str = "application/json"

    def encode(self) -> bytes:
        head = (
            f"HTTP/1.1 {self.status} Whatever\r\nContent-Type: {self.content_type}\r\n"
            f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode("ascii") + self.body


class FaultProxy:
    def __init__(self, upstream_port: int, *, upstream_host: str = "127.0.0.1") -> None:
        self.fault = Fault.PASS
        self.delay_ms = 0
        self.answer = Answer()
        self.connections = 0
        self._upstream = (upstream_host, upstream_port)
        self._next: deque[Fault] = deque()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def then(self, *faults: Fault) -> None:
        """Use these faults for the next connections, in order, then `fault` again."""
        self._next.extend(faults)

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        """Stop listening and end every connection (the port then refuses connections)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in list(self._writers):
            writer.close()

    async def cut(self) -> None:
        """End every open connection; the port keeps listening (with `fault` for new ones)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        fault = self._next.popleft() if self._next else self.fault
        task = asyncio.current_task()
        assert task is not None  # always inside the server's task
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve(fault, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the exchange gave up on this connection: that is the point
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve(
        self, fault: Fault, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if fault is Fault.DROP:
            return
        if fault is Fault.RESET:
            sock: socket.socket = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        if fault is Fault.HANG:
            while await reader.read(65536):
                pass
            return
        if fault is Fault.PASS:
            await asyncio.sleep(self.delay_ms / 1000)
            await self._pass(reader, writer)
            return
        await _read_request(reader)
        writer.write(GARBAGE if fault is Fault.GARBAGE else self.answer.encode())
        await writer.drain()

    async def _pass(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        self._writers.add(up_writer)
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            self._writers.discard(up_writer)
            up_writer.close()


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy one direction until its end, then pass the end on (half-close)."""
    with contextlib.suppress(OSError):
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
        if sink.can_write_eof() and not sink.is_closing():
            sink.write_eof()


async def _read_request(reader: asyncio.StreamReader) -> None:
    """Read one HTTP request: its head, then Content-Length bytes of body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    await reader.readexactly(length)
