"""A lean HTTP/1.1 client for the exchange's calls to providers: keep-alive, nothing else.

The exchange makes one kind of call: a POST of a small JSON document to a URL the registry
holds, answered by a small JSON document.  aiohttp's general client (cookies, redirects,
proxies, payload registry, three timers, per-request header objects) cost ~90 µs of CPU per
call on these machines; this client writes one pre-built request head and parses the answer
with httptools (llhttp, the parser uvicorn uses), in ~25 µs (docs/adr/0005).

What it does:

- one connection carries one request at a time (no pipelining); answered connections whose
  answer allows it go back to a per-origin idle pool (most recently used first) and are
  dropped after ``idle_timeout`` seconds unused, before the typical server's keep-alive ends;
- the whole call (connecting when no idle connection exists, writing, reading) runs under one
  deadline, one timer;
- answers are read whole: Content-Length, chunked, or until the server closes; an answer larger
  than ``max_response_bytes`` is refused and its connection closed;
- 1xx interim answers are skipped; header values with CR, LF or NUL are refused (no header
  injection); TLS through the standard library with certificate and host-name checks.

Everything that goes wrong is one of the `HttpFailure` subclasses or `TimeoutError`; the
provider gateway turns them into problems.
"""

from __future__ import annotations

import asyncio
import functools
import re
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

_DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN = ("\r", "\n", "\0")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 §5.6.2
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
# An answer's head (status line and headers) larger than this is refused.
MAX_HEAD_BYTES = 64 * 1024


class HttpFailure(Exception):
    """A call that did not produce an answer."""


class ConnectFailed(HttpFailure):
    """No connection could be made."""


class ConnectionDropped(HttpFailure):
    """The connection ended before the answer was complete."""


class InvalidAnswer(HttpFailure):
    """The bytes received were not a valid HTTP/1.x answer."""


class AnswerTooLarge(HttpFailure):
    """The answer's body was larger than the client accepts."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A URL split the way a request to it is written: where to connect, what to send."""

    url: str
    scheme: str
    host: str  # for connecting (no brackets around an IPv6 literal)
    port: int
    authority: str  # the Host header and @authority: lower-case, default port left out
    path: str  # path and query, as sent on the request line
    head: bytes  # request line and the headers every call to this URL carries

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)


def endpoint(url: str, *, user_agent: str = "panjereh-exchange") -> Endpoint:
    """Parse an ``http(s)://`` URL; ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"no host in {url!r}")
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    shown = f"[{host}]" if ":" in host else host
    authority = shown if port == _DEFAULT_PORTS[parts.scheme] else f"{shown}:{port}"
    path = parts.path or "/"
    target = f"{path}?{parts.query}" if parts.query else path
    if any(c in target for c in (*_FORBIDDEN, " ")):
        raise ValueError(f"unsafe characters in {url!r}")
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {user_agent}\r\n"
        "Accept: application/json\r\n"
    ).encode("ascii")
    return Endpoint(url, parts.scheme, host, port, authority, path, head)


def request_bytes(where: Endpoint, headers: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """The whole request: the endpoint's head, ``headers``, Content-Length, the body.

    Names must be HTTP tokens and not the ones this client writes itself (Host, framing);
    values must not hold CR, LF or NUL: ValueError otherwise.
    """
    lines = [where.head]
    for name, value in headers:
        if any(c in value for c in _FORBIDDEN):
            raise ValueError(f"unsafe header {name!r}: CR, LF or NUL in its value")
        if _TOKEN.fullmatch(name) is None or name.lower() in _OWN_HEADERS:
            raise ValueError(f"unsafe header {name!r}: not a token, or one the client writes")
        lines.append(f"{name}: {value}\r\n".encode())
    lines.append(b"Content-Length: %d\r\n\r\n" % len(body))
    lines.append(body)
    return b"".join(lines)


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection and the answer it is reading."""

    def __init__(self, pool: _Pool, max_body: int, *, tls: bool = False) -> None:
        self._pool = pool
        self._tls = tls
        self._max_body = max_body
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[Answer] | None = None
        self._reset()

    def _reset(self) -> None:
        self._content_type = ""
        self._chunks: list[bytes] = []
        self._size = 0
        self._headers_done = False
        self._head_size = 0  # bytes received before the head was complete
        self._framed = False  # Content-Length or chunked: the end is known without a close

    # Calls ---------------------------------------------------------------------------------

    def send(self, data: bytes, waiter: asyncio.Future[Answer]) -> None:
        assert self.transport is not None  # noqa: S101 - only connected ones are handed out
        self._waiter = waiter
        self._reset()
        self.transport.write(data)

    def abort(self) -> None:
        """Drop the connection (a timed-out or abandoned call: its state is unknown)."""
        self.closed = True
        self._pool.forget(self)
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, error: BaseException) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.abort()

    # asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # bytes nobody asked for: the connection cannot be trusted
            self.abort()
            return
        if not self._headers_done:
            self._head_size += len(data)
            if self._head_size > MAX_HEAD_BYTES + self._max_body:  # the read may hold body too
                self._fail(AnswerTooLarge("the provider's answer head is too large"))
                return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, AnswerTooLarge):
                self._fail(AnswerTooLarge("the provider's answer is too large"))
            else:  # bytes after the answer: the connection cannot be trusted
                self._fail(InvalidAnswer("the provider's answer is not valid HTTP"))
        except httptools.HttpParserUpgrade:
            self._fail(InvalidAnswer("the provider switched protocols"))
        except httptools.HttpParserError:
            self._fail(InvalidAnswer("the provider's answer is not valid HTTP"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool.forget(self)
        waiter, self._waiter = self._waiter, None
        if waiter is None or waiter.done():
            return
        # A body that runs until the close ended well only on a clean close (FIN, not a reset)
        # of plain TCP: asyncio cannot tell a TLS close_notify from a truncation.
        if exc is None and self._headers_done and not self._framed and not self._tls:
            status = self._parser.get_status_code()
            waiter.set_result(Answer(status, self._content_type, b"".join(self._chunks)))
            return
        waiter.set_exception(ConnectionDropped("the provider closed the connection"))

    # httptools callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._waiter is None:  # a second answer to one request: stop; data_received drops it
            raise InvalidAnswer("more than one answer to one request")

    def on_header(self, name: bytes, value: bytes) -> None:
        lower = name.lower()
        if lower == b"content-type":
            self._content_type = value.decode("latin-1")
        elif lower in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self._max_body:
            raise AnswerTooLarge  # stops the parser; data_received reports it
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:  # an interim answer (100 Continue, 103 Early Hints): wait on
            self._reset()
            return
        waiter, self._waiter = self._waiter, None
        answer = Answer(status, self._content_type, b"".join(self._chunks))
        if self._parser.should_keep_alive():
            self._pool.release(self)
        else:
            self.closed = True
            if self.transport is not None:
                self.transport.close()
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)


class _Pool:
    """Idle connections to one origin, most recently used last."""

    def __init__(self, idle_timeout: float) -> None:
        self._idle: dict[_Connection, None] = {}
        self._idle_timeout = idle_timeout
        self._closed = False

    def take(self, now: float) -> _Connection | None:
        while self._idle:
            connection, _ = self._idle.popitem()
            if connection.closed:
                continue
            if now - connection.idle_since > self._idle_timeout:
                connection.abort()
                continue
            return connection
        return None

    def release(self, connection: _Connection) -> None:
        if self._closed:  # the client was closed while this call was under way
            connection.abort()
            return
        if not connection.closed:
            connection.idle_since = time.monotonic()
            self._idle[connection] = None

    def forget(self, connection: _Connection) -> None:
        self._idle.pop(connection, None)

    def close(self) -> None:
        self._closed = True
        while self._idle:
            connection, _ = self._idle.popitem()
            connection.abort()

    def __len__(self) -> int:
        return len(self._idle)


class Http1Client:
    def __init__(
        self,
        *,
        max_response_bytes: int,
        idle_timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._max = max_response_bytes
        self._idle_timeout = idle_timeout
        self._ssl = ssl_context
        self._pools: dict[tuple[str, str, int], _Pool] = {}
        self._closed = False

    def idle_connections(self) -> int:
        return sum(len(pool) for pool in self._pools.values())

    async def post(self, where: Endpoint, request: bytes, timeout: float) -> Answer:
        """Send ``request`` (from `request_bytes`) to ``where``; the answer, or an
        `HttpFailure`, or TimeoutError after ``timeout`` seconds in all."""
        if self._closed:
            raise ConnectFailed("the client is closed")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pool = self._pools.get(where.origin)
        if pool is None:
            pool = self._pools[where.origin] = _Pool(self._idle_timeout)
        connection = pool.take(time.monotonic())
        if connection is None:
            connection = await self._connect(where, pool, deadline)
        waiter: asyncio.Future[Answer] = loop.create_future()
        timer = loop.call_at(deadline, _expire, waiter)
        try:
            connection.send(request, waiter)
            return await waiter
        finally:
            timer.cancel()
            if not waiter.done() or waiter.cancelled() or _failed(waiter):
                connection.abort()

    async def _connect(self, where: Endpoint, pool: _Pool, deadline: float) -> _Connection:
        loop = asyncio.get_running_loop()
        tls = None
        if where.scheme == "https":
            tls = self._ssl if self._ssl is not None else _default_tls()
        try:
            async with asyncio.timeout_at(deadline):
                _, connection = await loop.create_connection(
                    lambda: _Connection(pool, self._max, tls=tls is not None),
                    where.host,
                    where.port,
                    ssl=tls,
                    server_hostname=where.host if tls is not None else None,
                )
        except TimeoutError:
            raise
        except (OSError, ssl.SSLError) as exc:
            raise ConnectFailed(f"cannot connect: {exc.__class__.__name__}") from None
        return connection

    async def close(self) -> None:
        self._closed = True
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        await asyncio.sleep(0)  # let the transports run their connection_lost


def _expire(waiter: asyncio.Future[Answer]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


def _failed(waiter: asyncio.Future[Answer]) -> bool:
    return waiter.exception() is not None


@functools.cache
def _default_tls() -> ssl.SSLContext:
    """One verifying context for the process, made on first use."""
    return ssl.create_default_context()
