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
  injection); TLS through the standard library with certificate and host-name checks;
- a new connection resolves the host name once (`Resolver`, the event loop's getaddrinfo by
  default), hands every address the name resolved to to the caller's `Gate` (which refuses the
  call with `AddressRefused` if any of them may not be reached), then connects to the checked
  address itself (`Connector`), so nothing resolves the name a second time; over TLS it still
  sends the host name (SNI) and checks the certificate against it.  A kept-alive connection
  was checked when it was made; it is checked again (its address, no resolution) only when a
  call brings a different gate, and dropped for a new connection if that gate refuses it.

Everything that goes wrong is one of the `HttpFailure` subclasses or `TimeoutError`; the
provider gateway turns them into problems.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import httptools

_DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN = ("\r", "\n", "\0")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 §5.6.2
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
# An answer's head (status line and headers) larger than this is refused.
MAX_HEAD_BYTES = 64 * 1024
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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


class AddressRefused(HttpFailure):
    """The caller's gate does not admit an address the host resolved to: nothing was sent."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(f"{host} at {address}: {reason}")
        self.host = host
        self.address = address
        self.reason = reason


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


# Making connections ------------------------------------------------------------------------


class Resolver(Protocol):
    """The addresses a host name resolves to, as text (e.g. ``["192.0.2.7", "2001:db8::7"]``)."""

    def __call__(self, host: str, port: int) -> Awaitable[Sequence[str]]: ...


class Connector(Protocol):
    """Opens a connection to one IP address (``loop.create_connection`` with an address)."""

    def __call__(
        self,
        factory: Callable[[], asyncio.Protocol],
        address: str,
        port: int,
        *,
        ssl: ssl.SSLContext | None,
        server_hostname: str | None,
    ) -> Awaitable[tuple[asyncio.BaseTransport, asyncio.BaseProtocol]]: ...


class Gate(Protocol):
    """Decides whether a connection for ``where`` may be made to ``addresses`` (every address
    its host resolved to, or the one a kept-alive connection is at)."""

    def admit(self, where: Endpoint, addresses: Sequence[IPAddress]) -> None:
        """Return if it may; raise `AddressRefused` naming the first address that may not."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The event loop's getaddrinfo (the system's resolver), each address once, in order."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


async def loop_connector(
    factory: Callable[[], asyncio.Protocol],
    address: str,
    port: int,
    *,
    ssl: ssl.SSLContext | None,
    server_hostname: str | None,
) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
    """``loop.create_connection`` to an IP address (asyncio does not resolve one again)."""
    return await asyncio.get_running_loop().create_connection(
        factory, address, port, ssl=ssl, server_hostname=server_hostname
    )


@dataclass(frozen=True, slots=True)
class Dialer:
    """How new connections are made; tests give their own resolver or connector."""

    resolve: Resolver = field(default=system_resolver)
    connect: Connector = field(default=loop_connector)


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
        self.address: IPAddress | None = None  # where it is connected (checked by `gate`)
        self.gate: Gate | None = None
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
        dialer: Dialer | None = None,
    ) -> None:
        self._max = max_response_bytes
        self._idle_timeout = idle_timeout
        self._ssl = ssl_context
        self.dialer = dialer if dialer is not None else Dialer()
        self._pools: dict[tuple[str, str, int], _Pool] = {}
        self._closed = False

    def idle_connections(self) -> int:
        return sum(len(pool) for pool in self._pools.values())

    async def post(
        self, where: Endpoint, request: bytes, timeout: float, gate: Gate | None = None
    ) -> Answer:
        """Send ``request`` (from `request_bytes`) to ``where``; the answer, or an
        `HttpFailure`, or TimeoutError after ``timeout`` seconds in all.  ``gate`` admits the
        addresses of a new connection (None: any address; the provider transport always gives
        one)."""
        if self._closed:
            raise ConnectFailed("the client is closed")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pool = self._pools.get(where.origin)
        if pool is None:
            pool = self._pools[where.origin] = _Pool(self._idle_timeout)
        connection = pool.take(time.monotonic())
        if (
            connection is not None
            and connection.gate is not gate
            and not _admits(gate, where, connection)
        ):
            connection.abort()  # a fresh resolution decides (the name may have moved)
            connection = None
        if connection is None:
            connection = await self._connect(where, pool, deadline, gate)
        waiter: asyncio.Future[Answer] = loop.create_future()
        timer = loop.call_at(deadline, _expire, waiter)
        try:
            connection.send(request, waiter)
            return await waiter
        finally:
            timer.cancel()
            if not waiter.done() or waiter.cancelled() or _failed(waiter):
                connection.abort()

    async def _connect(
        self, where: Endpoint, pool: _Pool, deadline: float, gate: Gate | None
    ) -> _Connection:
        tls = None
        if where.scheme == "https":
            tls = self._ssl if self._ssl is not None else _default_tls()
        async with asyncio.timeout_at(deadline):
            addresses = await self._addresses(where)
            if gate is not None:
                gate.admit(where, addresses)
            return await self._open(where, pool, addresses, tls, gate)

    async def _addresses(self, where: Endpoint) -> list[IPAddress]:
        """The host as written when it is an IP address, else every address it resolves to."""
        try:
            return [ipaddress.ip_address(where.host)]
        except ValueError:
            pass
        try:
            found = [
                ipaddress.ip_address(a) for a in await self.dialer.resolve(where.host, where.port)
            ]
        except (OSError, ValueError):
            raise ConnectFailed("cannot resolve the provider's host name") from None
        if not found:
            raise ConnectFailed("the provider's host name has no address")
        return found

    async def _open(
        self,
        where: Endpoint,
        pool: _Pool,
        addresses: Sequence[IPAddress],
        tls: ssl.SSLContext | None,
        gate: Gate | None,
    ) -> _Connection:
        """A connection to the first of ``addresses`` that accepts one, in order."""
        failure: OSError | None = None
        for address in addresses:
            connection = _Connection(pool, self._max, tls=tls is not None)
            try:
                await self.dialer.connect(
                    _returning(connection),
                    str(address),
                    where.port,
                    ssl=tls,
                    server_hostname=where.host if tls is not None else None,
                )
            except OSError as exc:  # ssl.SSLError and CertificateError are OSErrors too
                failure = exc
                continue
            connection.address = address
            connection.gate = gate
            return connection
        name = failure.__class__.__name__ if failure is not None else "no address"
        raise ConnectFailed(f"cannot connect: {name}")

    async def close(self) -> None:
        self._closed = True
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        await asyncio.sleep(0)  # let the transports run their connection_lost


def _returning(connection: _Connection) -> Callable[[], asyncio.Protocol]:
    return lambda: connection


def _admits(gate: Gate | None, where: Endpoint, connection: _Connection) -> bool:
    """A kept-alive connection asked for under another gate (another agency's policy, or a
    changed one): its address checked again, without resolving the name."""
    if gate is not None and connection.address is not None:
        try:
            gate.admit(where, (connection.address,))
        except AddressRefused:
            return False
    connection.gate = gate
    return True


def _expire(waiter: asyncio.Future[Answer]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


def _failed(waiter: asyncio.Future[Answer]) -> bool:
    return waiter.exception() is not None


@functools.cache
def _default_tls() -> ssl.SSLContext:
    """One verifying context for the process, made on first use."""
    return ssl.create_default_context()
