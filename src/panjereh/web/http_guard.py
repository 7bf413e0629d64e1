"""What one client may make a server process hold: header size and count, time to send the
header and the body, and how many connections may be sending a request at once.

The embedded server has nothing in front of it, so uvicorn's own HTTP protocol has to enforce
these (docs/adr/0006-http-limits-in-the-server.md).  Left to itself it reads a header of any
size, keeps a connection that sent half a request line for ever, waits for a body sent a byte
every two seconds, and never closes a connection that connects and sends nothing.
`GuardedHttpProtocol` extends its httptools protocol (the one ``panjereh serve`` uses) with:

* header bytes (request line and fields) and count: past either, ``431`` and the connection
  closed; a header still arriving is cut off as soon as it is too large, never read whole;
* the header in ``header_timeout`` seconds, counted from the connection (its first request) or
  from the first byte of a later one: ``408`` and closed;
* the body in ``body_timeout`` seconds once the header is in, not counting the time the server
  itself holds reading back (uvicorn pauses reading while the application has not taken what
  came): ``408`` and closed;
* an idle kept-alive connection closed after ``keep_alive`` seconds (uvicorn's own timer, armed
  after each answer; a new connection is covered by the header time-out);
* at most ``max_receiving`` connections *receiving* (connected or sending a request, header or
  body, but not yet complete) per worker: a connection that would be one more is answered
  ``503`` overloaded with ``Retry-After`` and closed, so a flood of slow clients gets refusals
  rather than an unbounded number of sockets held open.

Each refusal is a short problem+json answer (the header was not read, so there is no
``Accept`` to negotiate with) and counts in ``panjereh_http_refused_total{reason}``.  After a
refusal the connection lingers a moment, reading and dropping at most `LINGER_BYTES`, so that
the client reads the answer rather than a reset.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

import httptools
import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

#: The key of the guard in the server's lifespan state (``app_state``), where the application
#: puts it (`panjereh.web.app`) and every connection's protocol finds it.
GUARD_STATE_KEY = "panjereh.http_guard"
LINGER_SECONDS = 1.0
LINGER_BYTES = 65_536
RETRY_AFTER_SECONDS = 1


class Refusal(StrEnum):
    """Why a connection was refused; the ``reason`` label of the metric."""

    HEADER_TOO_LARGE = "header-too-large"
    TOO_MANY_HEADERS = "too-many-headers"
    HEADER_TIMEOUT = "header-timeout"
    BODY_TIMEOUT = "body-timeout"
    OVERLOADED = "overloaded"


_ANSWERS: dict[Refusal, tuple[int, str, str]] = {
    Refusal.HEADER_TOO_LARGE: (
        431,
        "Request header fields too large",
        "The request's header is larger than this server accepts.",
    ),
    Refusal.TOO_MANY_HEADERS: (
        431,
        "Request header fields too large",
        "The request has more header fields than this server accepts.",
    ),
    Refusal.HEADER_TIMEOUT: (
        408,
        "Request timeout",
        "The request's header did not arrive in time.",
    ),
    Refusal.BODY_TIMEOUT: (408, "Request timeout", "The request's body did not arrive in time."),
    Refusal.OVERLOADED: (
        503,
        "Server overloaded",
        "Too many connections are sending requests; retry shortly.",
    ),
}
_CODES = {
    Refusal.HEADER_TOO_LARGE: "header-too-large",
    Refusal.TOO_MANY_HEADERS: "header-too-large",
    Refusal.HEADER_TIMEOUT: "request-timeout",
    Refusal.BODY_TIMEOUT: "request-timeout",
    Refusal.OVERLOADED: "overloaded",
}


def refusal_bytes(refusal: Refusal, extra_headers: tuple[tuple[bytes, bytes], ...] = ()) -> bytes:
    """The whole HTTP/1.1 answer of a refusal, ``Connection: close``."""
    status, title, detail = _ANSWERS[refusal]
    body = orjson.dumps(
        {
            "type": f"/problems/{_CODES[refusal]}",
            "title": title,
            "status": status,
            "detail": detail,
            "code": _CODES[refusal],
        }
    )
    lines = [
        f"HTTP/1.1 {status} {title.capitalize()}".encode("ascii"),
        b"content-type: application/problem+json",
        b"content-length: " + str(len(body)).encode("ascii"),
        b"connection: close",
    ]
    if refusal is Refusal.OVERLOADED:
        lines.append(b"retry-after: " + str(RETRY_AFTER_SECONDS).encode("ascii"))
    lines.extend(name + b": " + value for name, value in extra_headers)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """The limits, from the ``PANJEREH_HTTP_*`` settings (docs/configuration.md)."""

    max_header_bytes: int = 16_384
    max_headers: int = 100
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_receiving: int = 512


@dataclass(slots=True)
class HttpGuard:
    """One server process's limits and tallies, shared by all its connections."""

    limits: HttpLimits = field(default_factory=HttpLimits)
    # Every answer's headers (web/security_headers.py: nosniff, and HSTS over https).
    extra_headers: tuple[tuple[bytes, bytes], ...] = ((b"x-content-type-options", b"nosniff"),)
    receiving: int = 0  # connections connected or sending a request, not yet complete
    refused: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Refusal, 0))

    def count(self, refusal: Refusal) -> None:
        self.refused[refusal] += 1


class _Phase(Enum):
    WAITING = "waiting"  # nothing of a request yet (new, or kept alive between requests)
    HEADER = "header"
    BODY = "body"
    DONE = "done"  # the request is in; the application answers it


class _Refuse(Exception):
    """Raised inside the parser's callbacks to stop parsing a request that breaks a limit."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of `HttpGuard` (see the module)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        guard = app_state.get(GUARD_STATE_KEY)
        if not isinstance(guard, HttpGuard):  # an application that did not set one: defaults
            guard = app_state.setdefault(GUARD_STATE_KEY, HttpGuard())
        self.guard: HttpGuard = guard
        self.limits = guard.limits
        self._phase = _Phase.WAITING
        self._receiving = False
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None  # of the current phase (loop time), if it has one
        self._phase_seconds = 0.0
        self._header_bytes = 0  # bytes fed while the header was incomplete
        self._header_size = 0  # request target and fields seen so far
        self._header_count = 0
        self._lingering: int | None = None  # bytes still dropped after a refusal

    # Connection -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self._start_receiving():
            return
        self._phase = _Phase.HEADER
        self._arm(self.limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_receiving()
        self._cancel_timer()
        self._lingering = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering is not None:
            self._linger(len(data))
            return
        self._unset_keepalive_if_required()
        if self._phase in (_Phase.WAITING, _Phase.DONE):
            # A kept-alive (or pipelining) connection starts its next request.
            if not self._start_receiving():
                return
            self._begin_header()
        if self._phase is _Phase.HEADER:
            self._header_bytes += len(data)
        if not self._feed(data):
            return
        if self._phase is _Phase.HEADER and self._header_bytes > self.limits.max_header_bytes:
            self._refuse(Refusal.HEADER_TOO_LARGE)  # a header still arriving, already too big

    def _feed(self, data: bytes) -> bool:
        """uvicorn's parsing of ``data``, and a refusal raised by a callback; False when the
        connection was answered and is closing."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _Refuse):
                self._refuse(exc.__context__.refusal)
            else:
                self._bad_request()
            return False
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return False
        except httptools.HttpParserError:
            self._bad_request()
            return False
        return True

    def _bad_request(self) -> None:
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self._stop_receiving()
        self._disarm()
        self.send_400_response(msg)

    # Parser callbacks -----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._phase is not _Phase.HEADER:  # a pipelined request in the same read
            self._begin_header()

    def on_url(self, url: bytes) -> None:
        self._grow(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            raise _Refuse(Refusal.TOO_MANY_HEADERS)
        self._grow(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._phase = _Phase.BODY
        self._arm(self.limits.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._phase = _Phase.DONE
        self._disarm()
        self._stop_receiving()
        super().on_message_complete()

    # Limits ---------------------------------------------------------------------------------

    def _grow(self, size: int) -> None:
        self._header_size += size
        if self._header_size > self.limits.max_header_bytes:
            raise _Refuse(Refusal.HEADER_TOO_LARGE)

    def _begin_header(self) -> None:
        self._phase = _Phase.HEADER
        self._header_bytes = self._header_size = self._header_count = 0
        self._arm(self.limits.header_timeout)

    def _start_receiving(self) -> bool:
        """Count this connection as receiving, or refuse it when the worker has its limit."""
        if self._receiving:
            return True
        if self.guard.receiving >= self.limits.max_receiving:
            self._refuse(Refusal.OVERLOADED)
            return False
        self._receiving = True
        self.guard.receiving += 1
        return True

    def _stop_receiving(self) -> None:
        if self._receiving:
            self._receiving = False
            self.guard.receiving -= 1

    def _arm(self, seconds: float) -> None:
        """Set the deadline of the phase that starts now.

        One timer per connection, re-armed only when it fires before a deadline (or a new
        deadline is earlier than it): a kept-alive connection's requests set and clear a
        number, not a timer each (two timers per request cost ~7 µs, ADR 0006)."""
        deadline = self.loop.time() + seconds
        self._deadline = deadline
        self._phase_seconds = seconds
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = self.loop.call_at(deadline, self._expired)

    def _disarm(self) -> None:
        self._deadline = None  # the timer, if any, finds nothing due when it fires

    def _cancel_timer(self) -> None:
        self._deadline = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None or self.transport.is_closing():
            return
        if self.loop.time() < deadline:  # the phase changed since: wait for its deadline
            self._timer = self.loop.call_at(deadline, self._expired)
            return
        if self._phase is _Phase.BODY and self.flow.read_paused:
            # The server holds reading back (the application has not taken what came, or a
            # pipelined request waits for the one before): not the client's delay.
            self._arm(self._phase_seconds)
            return
        if self._phase is _Phase.HEADER:
            # A connection that sent nothing asked nothing: it is closed without an answer.
            self._refuse(Refusal.HEADER_TIMEOUT, answer=self._header_bytes > 0)
        elif self._phase is _Phase.BODY:
            self._refuse(Refusal.BODY_TIMEOUT)

    def _refuse(self, refusal: Refusal, *, answer: bool = True) -> None:
        """Answer ``refusal`` (unless an answer is already under way) and close."""
        self.guard.count(refusal)
        self._stop_receiving()
        self._disarm()
        self._phase = _Phase.DONE
        cycle = self.cycle
        answering = cycle is not None and not cycle.response_complete
        if answering and cycle is not None:
            # The application's answer to this request, if it comes, goes nowhere.
            cycle.disconnected = True
            cycle.message_event.set()
            answer = answer and not cycle.response_started  # else half an answer is out
        if not answer:
            self._lingering = 0  # whatever still comes is dropped
            self.transport.close()
            return
        self.transport.write(refusal_bytes(refusal, self.guard.extra_headers))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()
        self._lingering = LINGER_BYTES
        self.loop.call_later(LINGER_SECONDS, self._close)

    def _linger(self, size: int) -> None:
        assert self._lingering is not None  # noqa: S101 - called only while lingering
        self._lingering -= size
        if self._lingering < 0:
            self._close()

    def _close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def timeout_keep_alive_handler(self) -> None:
        if self._phase is _Phase.WAITING or self._phase is _Phase.DONE:
            super().timeout_keep_alive_handler()
