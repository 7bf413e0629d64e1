"""The lean HTTP/1.1 provider client, against small servers on real sockets.

Every server here writes exact raw bytes, so each case is deterministic: the tests count the
connections a server accepted, compare the bytes it received, and assert the exact answer or
failure class the client produced.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from panjereh.exchange.egress import EgressRules
from panjereh.exchange.http1 import (
    Answer,
    AnswerTooLarge,
    ConnectFailed,
    ConnectionDropped,
    Http1Client,
    HttpFailure,
    InvalidAnswer,
    endpoint,
    request_bytes,
)
from panjereh.exchange.problems import (
    PROVIDER_ERROR,
    PROVIDER_TIMEOUT,
    PROVIDER_UNAVAILABLE,
    Problem,
    ProblemType,
)
from panjereh.exchange.transport import ProviderReply, ProviderTransport

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
OK_ANSWER = Answer(200, "application/json", b'{"ok":true}')
GARBAGE = b"\x00\xffSSH-2.0-not-http\r\n\x1b[31m\xfe\xfd\r\n\r\n"
LIMIT = 64  # max_response_bytes of the clients made here


# Servers ---------------------------------------------------------------------------------------


@dataclass
class Peer:
    """The server's end of one accepted connection."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: RawServer
    number: int  # 1 for the first connection the server accepted

    async def request(self) -> bytes:
        """One whole request (head and Content-Length body) as received, b"" once it ends."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            body = await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.server.ended += 1
            return b""
        self.server.requests.append(head + body)
        return head + body

    async def send(self, *parts: bytes) -> None:
        """Write each part on its own, so that they can arrive in separate reads."""
        for part in parts:
            self.writer.write(part)
            await self.writer.drain()

    async def until_ended(self) -> None:
        """Read until the client closes or aborts the connection."""
        try:
            while await self.reader.read(65536):
                pass
        except ConnectionError:
            pass
        self.server.ended += 1

    def reset(self) -> None:
        """Make the coming close a reset (RST) instead of a FIN."""
        sock: socket.socket = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


Handler = Callable[[Peer], Awaitable[None]]


@dataclass
class RawServer:
    """A server on 127.0.0.1 that runs ``handler`` on every connection it accepts."""

    handler: Handler
    tls: ssl.SSLContext | None = None
    accepted: int = 0  # connections accepted
    ended: int = 0  # connections the server saw the client end
    requests: list[bytes] = field(default_factory=list)  # every request received, in order
    errors: list[BaseException] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> RawServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, path: str = "/v1/answer") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in list(self._writers):
            writer.close()
        await asyncio.sleep(0.001)  # let the clients' transports see the close

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self.handler(Peer(reader, writer, self, self.accepted))
        except ConnectionError:
            pass  # the client aborted while the server wrote: some tests do exactly that
        except Exception as exc:  # noqa: BLE001 - reported by the fixture, never lost
            self.errors.append(exc)
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()


def answering(*answers: bytes) -> Handler:
    """Answer the n-th request the server receives (on any connection) with the n-th answer
    (the last one again when they run out); keep the connection until the client ends it."""

    async def handle(peer: Peer) -> None:
        while await peer.request():
            await peer.send(answers[min(len(peer.server.requests), len(answers)) - 1])

    return handle


def closing_after(*parts: bytes) -> Handler:
    """Read one request, write ``parts`` one by one, then close the connection."""

    async def handle(peer: Peer) -> None:
        await peer.request()
        await peer.send(*parts)

    return handle


async def hang(peer: Peer) -> None:
    """Read the request and never answer."""
    await peer.request()
    await peer.until_ended()


class Servers:
    def __init__(self) -> None:
        self._started: list[RawServer] = []

    async def start(self, handler: Handler, *, tls: ssl.SSLContext | None = None) -> RawServer:
        server = await RawServer(handler, tls).start()
        self._started.append(server)
        return server

    async def close(self) -> list[BaseException]:
        for server in self._started:
            await server.close()
        return [error for server in self._started for error in server.errors]


class Clients:
    def __init__(self) -> None:
        self._made: list[Http1Client] = []

    def make(
        self,
        *,
        max_response_bytes: int = LIMIT,
        idle_timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> Http1Client:
        client = Http1Client(
            max_response_bytes=max_response_bytes,
            idle_timeout=idle_timeout,
            ssl_context=ssl_context,
        )
        self._made.append(client)
        return client

    async def close(self) -> None:
        for client in self._made:
            await client.close()


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    made = Servers()
    yield made
    assert await made.close() == []  # a handler that broke would otherwise go unnoticed


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    made = Clients()
    yield made
    await made.close()


@pytest.fixture
def client(clients: Clients) -> Http1Client:
    return clients.make()


async def call(
    client: Http1Client, server: RawServer, body: bytes = b"{}", *, timeout: float = 2.0
) -> Answer:
    where = endpoint(server.url())
    request = request_bytes(where, [("Content-Type", "application/json")], body)
    return await client.post(where, request, timeout)


async def eventually(condition: Callable[[], bool], within: float = 1.0) -> None:
    """Wait (a few loop turns, as long as it takes the kernel) until ``condition`` holds."""
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.001)


# Reading answers -------------------------------------------------------------------------------


async def test_a_content_length_answer_is_read_whole(servers: Servers, client: Http1Client) -> None:
    server = await servers.start(answering(OK))

    assert await call(client, server) == OK_ANSWER
    assert server.accepted == 1
    assert client.idle_connections() == 1


async def test_an_answer_whose_head_and_body_arrive_in_pieces_is_read_whole(
    servers: Servers, client: Http1Client
) -> None:
    async def handle(peer: Peer) -> None:
        await peer.request()
        for part in (OK[:10], OK[10:30], OK[30:70], OK[70:]):
            await peer.send(part)
            await asyncio.sleep(0.005)
        await peer.until_ended()

    server = await servers.start(handle)

    assert await call(client, server) == OK_ANSWER


async def test_a_chunked_answer_is_joined_from_its_chunks(
    servers: Servers, client: Http1Client
) -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunks = (b"5\r\n[1, 2\r\n", b"3\r\n, 3\r\n", b"a\r\n, 4, 5, 6]\r\n", b"0\r\n\r\n")
    server = await servers.start(closing_after(head, *chunks))

    answer = await call(client, server)

    assert answer == Answer(200, "application/json", b"[1, 2, 3, 4, 5, 6]")


async def test_an_answer_without_length_runs_until_the_server_closes(
    servers: Servers, client: Http1Client
) -> None:
    server = await servers.start(
        closing_after(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", b"until ", b"the end")
    )

    assert await call(client, server) == Answer(200, "text/plain", b"until the end")
    assert client.idle_connections() == 0
    assert await call(client, server) == Answer(200, "text/plain", b"until the end")
    assert server.accepted == 2


async def test_a_204_has_an_empty_body_and_keeps_its_connection(
    servers: Servers, client: Http1Client
) -> None:
    server = await servers.start(answering(b"HTTP/1.1 204 No Content\r\n\r\n"))

    assert await call(client, server) == Answer(204, "", b"")
    assert await call(client, server) == Answer(204, "", b"")
    assert server.accepted == 1


# Keep-alive ------------------------------------------------------------------------------------


async def test_two_sequential_calls_share_one_connection(
    servers: Servers, client: Http1Client
) -> None:
    second = b"HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nsecond"
    server = await servers.start(answering(OK, second))

    assert await call(client, server) == OK_ANSWER
    assert await call(client, server) == Answer(201, "text/plain", b"second")
    assert server.accepted == 1
    assert len(server.requests) == 2
    assert client.idle_connections() == 1


async def test_a_connection_close_answer_is_not_reused(
    servers: Servers, client: Http1Client
) -> None:
    closing = OK.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
    server = await servers.start(answering(closing))  # the server itself never closes

    assert await call(client, server) == OK_ANSWER
    assert client.idle_connections() == 0
    await eventually(lambda: server.ended == 1)  # the client closed it
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == 2


@pytest.mark.parametrize(
    ("head", "connections"),
    [
        pytest.param(b"HTTP/1.0 200 OK\r\n", 2, id="http-1.0"),
        pytest.param(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n", 1, id="http-1.0-keep-alive"),
    ],
)
async def test_an_http_10_answer_keeps_its_connection_only_when_it_says_keep_alive(
    servers: Servers, client: Http1Client, head: bytes, connections: int
) -> None:
    answer = head + b'Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
    server = await servers.start(answering(answer))

    assert await call(client, server) == OK_ANSWER
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == connections


async def test_a_connection_the_server_closed_while_idle_is_replaced(
    servers: Servers, client: Http1Client
) -> None:
    server = await servers.start(closing_after(OK))  # answers with keep-alive, then closes

    assert await call(client, server) == OK_ANSWER
    await eventually(lambda: client.idle_connections() == 0)  # connection_lost ran
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == 2


@pytest.mark.parametrize(
    ("idle_timeout", "connections", "ended"),
    [pytest.param(0.05, 2, 1, id="expired"), pytest.param(1.0, 1, 0, id="fresh")],
)
async def test_a_connection_idle_longer_than_idle_timeout_is_replaced(
    servers: Servers, clients: Clients, idle_timeout: float, connections: int, ended: int
) -> None:
    server = await servers.start(answering(OK))
    client = clients.make(idle_timeout=idle_timeout)

    assert await call(client, server) == OK_ANSWER
    await asyncio.sleep(0.1)
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == connections
    await eventually(lambda: server.ended == ended)  # the expired one was closed, not left open


async def test_each_origin_has_its_own_pool(servers: Servers, client: Http1Client) -> None:
    first = await servers.start(answering(OK))
    second = await servers.start(answering(OK))

    for server in (first, second, first, second):
        assert await call(client, server) == OK_ANSWER
    assert (first.accepted, second.accepted) == (1, 1)
    assert client.idle_connections() == 2


async def test_concurrent_calls_use_one_connection_each_and_both_go_back_to_the_pool(
    servers: Servers, client: Http1Client
) -> None:
    async def handle(peer: Peer) -> None:
        while await peer.request():
            await eventually(lambda: len(peer.server.requests) >= 2)  # both calls in flight
            await peer.send(OK)

    server = await servers.start(handle)

    answers = await asyncio.gather(call(client, server), call(client, server))

    assert list(answers) == [OK_ANSWER, OK_ANSWER]
    assert server.accepted == 2
    assert client.idle_connections() == 2
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == 2


# Size limit ------------------------------------------------------------------------------------


async def test_an_answer_of_exactly_the_size_limit_is_accepted(
    servers: Servers, client: Http1Client
) -> None:
    body = b"x" * LIMIT
    server = await servers.start(
        answering(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (LIMIT, body))
    )

    assert await call(client, server) == Answer(200, "", body)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (LIMIT + 1, b"x" * (LIMIT + 1)),
            id="content-length",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"%x\r\n%s\r\n1\r\ny\r\n0\r\n\r\n" % (LIMIT, b"x" * LIMIT),
            id="chunked",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * (LIMIT + 1),
            id="until-close",
        ),
    ],
)
async def test_an_answer_over_the_size_limit_is_refused_and_its_connection_dropped(
    servers: Servers, client: Http1Client, answer: bytes
) -> None:
    async def handle(peer: Peer) -> None:
        if peer.number == 1:
            await peer.request()
            await peer.send(answer)
            await peer.until_ended()  # the client must end it: the server keeps it open
        else:
            await answering(OK)(peer)

    server = await servers.start(handle)

    with pytest.raises(AnswerTooLarge):
        await call(client, server)
    assert client.idle_connections() == 0
    await eventually(lambda: server.ended == 1)
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == 2


async def test_an_answer_whose_head_is_over_any_sane_size_is_refused(
    servers: Servers, client: Http1Client
) -> None:
    huge = b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * (1 << 20) + b"\r\nContent-Length: 2\r\n\r\nok"
    server = await servers.start(answering(huge))

    with pytest.raises((AnswerTooLarge, InvalidAnswer)):
        await call(client, server)  # today: Answer(200, "", b"ok"), with LIMIT = 64 bytes


# Interim answers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param((b"HTTP/1.1 100 Continue\r\n\r\n" + OK,), id="one-write"),
        pytest.param((b"HTTP/1.1 100 Continue\r\n\r\n", OK), id="two-writes"),
        pytest.param(
            (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n", OK), id="two-interim"
        ),
    ],
)
async def test_a_100_continue_is_skipped_for_the_final_answer(
    servers: Servers, client: Http1Client, parts: tuple[bytes, ...]
) -> None:
    async def handle(peer: Peer) -> None:
        while await peer.request():
            await peer.send(*parts)

    server = await servers.start(handle)

    assert await call(client, server) == OK_ANSWER
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == 1


async def test_an_interim_answers_headers_do_not_leak_into_the_final_answer(
    servers: Servers, client: Http1Client
) -> None:
    early = (
        b"HTTP/1.1 103 Early Hints\r\nContent-Type: text/html\r\nLink: </a>; rel=preload\r\n\r\n"
    )
    final = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = await servers.start(answering(early + final))

    assert await call(client, server) == Answer(200, "", b"ok")


async def test_a_switch_of_protocols_is_an_invalid_answer(
    servers: Servers, client: Http1Client
) -> None:
    server = await servers.start(
        closing_after(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        )
    )

    with pytest.raises(InvalidAnswer):
        await call(client, server)


# Failures --------------------------------------------------------------------------------------


async def test_garbage_is_an_invalid_answer_and_its_connection_is_dropped(
    servers: Servers, client: Http1Client
) -> None:
    async def handle(peer: Peer) -> None:
        if peer.number == 1:
            await peer.request()
            await peer.send(GARBAGE)
            await peer.until_ended()
        else:
            await answering(OK)(peer)

    server = await servers.start(handle)

    with pytest.raises(InvalidAnswer):
        await call(client, server)
    await eventually(lambda: server.ended == 1)
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == 2


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"", id="before-any-byte"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Type: appl", id="mid-head"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", id="mid-body"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n3\r\nab",
            id="mid-chunk",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n",
            id="before-last-chunk",
        ),
        pytest.param(b"HTTP/1.1 100 Continue\r\n\r\n", id="after-interim"),
    ],
)
async def test_a_server_that_closes_before_the_answer_ends_drops_the_connection(
    servers: Servers, client: Http1Client, sent: bytes
) -> None:
    server = await servers.start(closing_after(sent))

    with pytest.raises(ConnectionDropped):
        await call(client, server)
    assert server.accepted == 1


async def test_a_server_that_resets_before_the_answer_ends_drops_the_connection(
    servers: Servers, client: Http1Client
) -> None:
    async def handle(peer: Peer) -> None:
        await peer.request()
        peer.reset()

    server = await servers.start(handle)

    with pytest.raises(ConnectionDropped):
        await call(client, server)


async def test_nothing_listening_is_a_failed_connect(client: Http1Client) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    where = endpoint(f"http://127.0.0.1:{port}/x")

    with pytest.raises(ConnectFailed):
        await client.post(where, request_bytes(where, [], b""), 1.0)


async def test_https_to_a_plain_http_server_is_a_failed_connect(
    servers: Servers, client: Http1Client
) -> None:
    async def handle(peer: Peer) -> None:
        await peer.send(OK)  # at once: the client's TLS handshake reads an HTTP answer

    server = await servers.start(handle)
    where = endpoint(f"https://127.0.0.1:{server.port}/x")

    with pytest.raises(ConnectFailed):
        await client.post(where, request_bytes(where, [], b""), 1.0)


async def test_a_closed_client_refuses_calls(servers: Servers, client: Http1Client) -> None:
    server = await servers.start(answering(OK))
    assert await call(client, server) == OK_ANSWER

    await client.close()

    await eventually(lambda: server.ended == 1)  # its idle connection was closed
    with pytest.raises(ConnectFailed):
        await call(client, server)
    assert server.accepted == 1


def test_every_failure_is_an_http_failure() -> None:
    for failure in (ConnectFailed, ConnectionDropped, InvalidAnswer, AnswerTooLarge):
        assert issubclass(failure, HttpFailure)
    assert not issubclass(TimeoutError, HttpFailure)


# The deadline ----------------------------------------------------------------------------------


async def test_a_server_that_never_answers_times_out_and_its_connection_is_aborted(
    servers: Servers, client: Http1Client
) -> None:
    async def handle(peer: Peer) -> None:
        await (hang if peer.number == 1 else answering(OK))(peer)

    server = await servers.start(handle)
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(TimeoutError):
        await call(client, server, timeout=0.1)

    assert loop.time() - started == pytest.approx(0.1, abs=0.05)
    assert client.idle_connections() == 0
    await eventually(lambda: server.ended == 1)  # the client ended the connection
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == 2


async def test_one_deadline_covers_the_whole_answer_not_each_read(
    servers: Servers, client: Http1Client
) -> None:
    async def handle(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n")
        for _ in range(20):  # a byte every 20 ms: each read is quick, the whole is 0.4 s
            await asyncio.sleep(0.02)
            await peer.send(b"x")
        await peer.until_ended()

    server = await servers.start(handle)
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(TimeoutError):
        await call(client, server, timeout=0.15)

    assert loop.time() - started == pytest.approx(0.15, abs=0.05)


async def test_the_deadline_covers_connecting(client: Http1Client) -> None:
    # A listener whose accept queue is full: the kernel drops further SYNs, so connecting
    # hangs (a non-routable address is not used: the sandbox answers connections to it).
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler.connect(listener.getsockname())
        where = endpoint(f"http://127.0.0.1:{listener.getsockname()[1]}/x")
        loop = asyncio.get_running_loop()
        started = loop.time()

        with pytest.raises(TimeoutError):
            await client.post(where, request_bytes(where, [], b""), 0.1)

        assert loop.time() - started == pytest.approx(0.1, abs=0.05)
        listener.setblocking(False)
        accepted, _ = listener.accept()  # the filler; the client's SYN never got queued
        accepted.close()
        with pytest.raises(BlockingIOError):
            listener.accept()


async def test_a_cancelled_call_aborts_its_connection(
    servers: Servers, client: Http1Client
) -> None:
    async def handle(peer: Peer) -> None:
        await (hang if peer.number == 1 else answering(OK))(peer)

    server = await servers.start(handle)
    task = asyncio.create_task(call(client, server, timeout=5.0))
    await eventually(lambda: len(server.requests) == 1)

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually(lambda: server.ended == 1)
    assert client.idle_connections() == 0
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == 2


# The request -----------------------------------------------------------------------------------


def test_request_bytes_are_the_head_the_headers_in_order_the_length_and_the_body() -> None:
    where = endpoint("http://127.0.0.1:8080/v1/inquiry/person?fields=name")
    headers = [("X-Request-Id", "r-1"), ("Content-Type", "application/json"), ("Digest", "a=b")]

    request = request_bytes(where, headers, b'{"national_code":"0012345678"}')

    assert request == (
        b"POST /v1/inquiry/person?fields=name HTTP/1.1\r\n"
        b"Host: 127.0.0.1:8080\r\n"
        b"User-Agent: panjereh-exchange\r\n"
        b"Accept: application/json\r\n"
        b"X-Request-Id: r-1\r\n"
        b"Content-Type: application/json\r\n"
        b"Digest: a=b\r\n"
        b"Content-Length: 30\r\n"
        b"\r\n"
        b'{"national_code":"0012345678"}'
    )


def test_an_empty_body_is_sent_with_a_zero_length() -> None:
    where = endpoint("http://example.ir/", user_agent="probe/1")

    assert request_bytes(where, [], b"") == (
        b"POST / HTTP/1.1\r\nHost: example.ir\r\nUser-Agent: probe/1\r\n"
        b"Accept: application/json\r\nContent-Length: 0\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("X-Id", "1\r\nX-Injected: yes", id="crlf-in-value"),
        pytest.param("X-Id", "1\nX-Injected: yes", id="lf-in-value"),
        pytest.param("X-Id", "1\rX-Injected: yes", id="cr-in-value"),
        pytest.param("X-Id", "1\0", id="nul-in-value"),
        pytest.param("X-Id\r\nX-Injected", "yes", id="crlf-in-name"),
        pytest.param("X-Id: 1\r\nX", "yes", id="colon-in-name"),
        pytest.param("Content-Length", "0", id="framing-content-length"),
        pytest.param("transfer-encoding", "chunked", id="framing-transfer-encoding"),
        pytest.param("Host", "elsewhere.example", id="host"),
        pytest.param("Connection", "upgrade", id="connection"),
        pytest.param("", "yes", id="empty-name"),
        pytest.param("X Id", "yes", id="space-in-name"),
    ],
)
def test_a_header_that_would_inject_another_is_refused(name: str, value: str) -> None:
    where = endpoint("http://example.ir/")

    with pytest.raises(ValueError, match="unsafe header"):
        request_bytes(where, [("X-Good", "1"), (name, value)], b"{}")


async def test_the_server_receives_exactly_the_request_bytes(
    servers: Servers, client: Http1Client
) -> None:
    server = await servers.start(answering(OK))
    where = endpoint(server.url("/v1/echo?q=%D8%B3"))
    first = request_bytes(where, [("X-Request-Id", "one")], b'{"n":1}')
    second = request_bytes(where, [("X-Request-Id", "two")], b'{"n":"two"}')

    assert await client.post(where, first, 1.0) == OK_ANSWER
    assert await client.post(where, second, 1.0) == OK_ANSWER

    assert server.requests == [first, second]
    assert first.startswith(
        b"POST /v1/echo?q=%%D8%%B3 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % server.port
    )


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port", "authority", "target"),
    [
        ("http://Example.GOV.ir/a/b", "http", "example.gov.ir", 80, "example.gov.ir", "/a/b"),
        ("http://example.ir:80/a", "http", "example.ir", 80, "example.ir", "/a"),
        ("http://example.ir:8080/a", "http", "example.ir", 8080, "example.ir:8080", "/a"),
        ("https://example.ir", "https", "example.ir", 443, "example.ir", "/"),
        ("https://example.ir:443/a?b=1", "https", "example.ir", 443, "example.ir", "/a?b=1"),
        ("https://example.ir:80/a", "https", "example.ir", 80, "example.ir:80", "/a"),
        ("http://[::1]:8080/x?y=1", "http", "::1", 8080, "[::1]:8080", "/x?y=1"),
        ("https://[2001:DB8::1]/x", "https", "2001:db8::1", 443, "[2001:db8::1]", "/x"),
    ],
)
def test_an_endpoint_is_split_the_way_its_request_is_written(
    url: str, scheme: str, host: str, port: int, authority: str, target: str
) -> None:
    where = endpoint(url)

    assert (where.url, where.scheme, where.host, where.port) == (url, scheme, host, port)
    assert where.authority == authority
    assert where.origin == (scheme, host, port)
    assert where.head == (
        f"POST {target} HTTP/1.1\r\nHost: {authority}\r\n"
        "User-Agent: panjereh-exchange\r\nAccept: application/json\r\n"
    ).encode("ascii")


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("ftp://example.ir/x", id="ftp"),
        pytest.param("ws://example.ir/x", id="ws"),
        pytest.param("example.ir/x", id="no-scheme"),
        pytest.param("http:///x", id="no-host"),
        pytest.param("http://example.ir:99999/x", id="port-out-of-range"),
        pytest.param("http://example.ir/a b", id="space-in-path"),
        pytest.param("http://example.ir/a\0b", id="nul-in-path"),
    ],
)
def test_a_url_that_cannot_be_called_is_a_value_error(url: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message differs per case
        endpoint(url)


# Bytes nobody asked for ------------------------------------------------------------------------


async def test_bytes_arriving_on_an_idle_connection_drop_it(
    servers: Servers, client: Http1Client
) -> None:
    answered = asyncio.Event()

    async def handle(peer: Peer) -> None:
        if peer.number == 1:
            await peer.request()
            await peer.send(OK)
            await answered.wait()  # the client has the answer: its connection is idle now
            await peer.send(OK)
            await peer.until_ended()
        else:
            await answering(OK)(peer)

    server = await servers.start(handle)
    assert await call(client, server) == OK_ANSWER
    assert client.idle_connections() == 1

    answered.set()

    await eventually(lambda: client.idle_connections() == 0)
    await eventually(lambda: server.ended == 1)
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == 2


async def test_an_extra_answer_in_the_same_read_as_the_answer_drops_the_connection(
    servers: Servers, client: Http1Client
) -> None:
    async def handle(peer: Peer) -> None:
        if peer.number == 1:
            await peer.request()
            await peer.send(OK + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra")
            await peer.until_ended()
        else:
            await answering(OK)(peer)

    server = await servers.start(handle)

    assert await call(client, server) == OK_ANSWER
    assert client.idle_connections() == 0
    await eventually(lambda: server.ended == 1)
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == 2


async def test_the_next_call_gets_its_own_answer_after_an_extra_head_in_the_same_read(
    servers: Servers, client: Http1Client
) -> None:
    extra_head = b"HTTP/1.1 201 Created\r\nContent-Type: text/evil\r\nContent-Length: 20\r\n\r\n"

    async def handle(peer: Peer) -> None:
        if peer.number == 1:
            await peer.request()
            await peer.send(OK + extra_head)
        await answering(OK)(peer)

    server = await servers.start(handle)
    assert await call(client, server) == OK_ANSWER

    second = await call(client, server)

    assert second == OK_ANSWER  # not the 201 whose body would be the start of this answer
    assert server.accepted == 2


async def test_a_reset_during_a_body_delimited_by_the_close_drops_the_connection(
    servers: Servers, client: Http1Client
) -> None:
    async def handle(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart of the")
        await asyncio.sleep(0.02)  # the client has read those bytes
        peer.reset()

    server = await servers.start(handle)

    with pytest.raises(ConnectionDropped):
        await call(client, server)  # today: Answer(200, "text/plain", b"part of the")


async def test_closing_the_client_also_closes_the_connection_of_a_call_in_flight(
    servers: Servers, client: Http1Client
) -> None:
    may_answer = asyncio.Event()

    async def handle(peer: Peer) -> None:
        await peer.request()
        await may_answer.wait()
        await peer.send(OK)  # keep-alive
        await peer.until_ended()

    server = await servers.start(handle)
    task = asyncio.create_task(call(client, server))
    await eventually(lambda: len(server.requests) == 1)

    await client.close()
    may_answer.set()

    assert await task == OK_ANSWER  # a call underway is allowed to finish
    await eventually(lambda: server.ended == 1, within=0.2)  # today: left open


# TLS -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def trusting_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def self_signed(folder: Path, *, dns: str, ip: str) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(dns), x509.IPAddress(ipaddress.ip_address(ip))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_path, key_path)


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    """A self-signed certificate for localhost and 127.0.0.1."""
    return self_signed(tmp_path / "tls", dns="localhost", ip="127.0.0.1")


async def test_https_to_a_trusted_certificate_succeeds_and_keeps_the_connection(
    servers: Servers, clients: Clients, certificate: Certificate
) -> None:
    server = await servers.start(answering(OK), tls=certificate.server_context())
    client = clients.make(ssl_context=certificate.trusting_context())

    assert await call(client, server) == OK_ANSWER
    assert await call(client, server) == OK_ANSWER
    assert server.accepted == 1
    assert len(server.requests) == 2


async def test_https_to_an_untrusted_certificate_is_a_failed_connect(
    servers: Servers, client: Http1Client, certificate: Certificate
) -> None:
    server = await servers.start(answering(OK), tls=certificate.server_context())

    with pytest.raises(ConnectFailed):
        await call(client, server)  # the default context: the system's trusted roots
    assert server.requests == []


async def test_https_to_a_certificate_for_another_host_is_a_failed_connect(
    servers: Servers, clients: Clients, tmp_path: Path
) -> None:
    other = self_signed(tmp_path / "other", dns="provider.example.ir", ip="192.0.2.7")
    server = await servers.start(answering(OK), tls=other.server_context())
    client = clients.make(ssl_context=other.trusting_context())  # trusted, but not for us

    with pytest.raises(ConnectFailed):
        await call(client, server)
    assert server.requests == []


# The transport's mapping to problems -----------------------------------------------------------


@pytest.fixture
async def transport() -> AsyncIterator[ProviderTransport]:
    made = ProviderTransport(  # the servers here are on loopback: development's rules
        max_response_bytes=LIMIT, egress=EgressRules(allow_private=True)
    )
    await made.start()
    yield made
    await made.close()


async def test_the_transport_returns_the_providers_answer(
    servers: Servers, transport: ProviderTransport
) -> None:
    server = await servers.start(answering(OK))

    reply = await transport.post(server.url(), b"{}", {"X-Request-Id": "r-1"}, 1.0)

    assert reply == ProviderReply(200, b'{"ok":true}', "application/json")
    assert server.requests[0].endswith(b"X-Request-Id: r-1\r\nContent-Length: 2\r\n\r\n{}")


@pytest.mark.parametrize(
    ("handler", "kind"),
    [
        pytest.param(hang, PROVIDER_TIMEOUT, id="timeout"),
        pytest.param(None, PROVIDER_UNAVAILABLE, id="refused"),
        pytest.param(closing_after(b""), PROVIDER_UNAVAILABLE, id="dropped"),
        pytest.param(
            answering(b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"),
            PROVIDER_ERROR,
            id="redirect",
        ),
        pytest.param(closing_after(GARBAGE), PROVIDER_ERROR, id="invalid-http"),
        pytest.param(
            closing_after(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * (LIMIT + 1)),
            PROVIDER_ERROR,
            id="too-large",
        ),
    ],
)
async def test_the_transport_turns_each_failure_into_its_provider_problem(
    servers: Servers, transport: ProviderTransport, handler: Handler | None, kind: ProblemType
) -> None:
    if handler is None:
        server = await servers.start(answering(OK))
        url = server.url()
        await server.close()  # the port now refuses connections
    else:
        url = (await servers.start(handler)).url()

    with pytest.raises(Problem) as raised:
        await transport.post(url, b"{}", {}, 0.1)

    assert raised.value.kind is kind
    assert (
        raised.value.kind.code
        == {
            PROVIDER_TIMEOUT: "provider-timeout",
            PROVIDER_UNAVAILABLE: "provider-unavailable",
            PROVIDER_ERROR: "provider-error",
        }[kind]
    )


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        pytest.param("ftp://example.ir/x", {}, id="not-http"),
        pytest.param("http://example.ir/x", {"X-Id": "1\r\nX-Injected: 1"}, id="injection"),
    ],
)
async def test_the_transport_refuses_a_request_it_cannot_write_as_a_provider_error(
    transport: ProviderTransport, url: str, headers: dict[str, str]
) -> None:
    with pytest.raises(Problem) as raised:
        await transport.post(url, b"{}", headers, 1.0)

    assert raised.value.kind.code == "provider-error"
