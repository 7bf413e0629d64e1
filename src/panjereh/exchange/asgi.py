"""The inquiry endpoint as a bare ASGI application.

The hot path skips any framework's routing and request objects: measured on these machines a
Starlette route costs ~25% of throughput against a raw ASGI handler (shared/NOTES.md).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from panjereh.exchange.inquiry import InquiryHandler, InquiryReply, InquiryRequest
from panjereh.exchange.problems import (
    METHOD_NOT_ALLOWED,
    PROBLEM_CONTENT_TYPE,
    SERVER_ERROR,
    ErrorSource,
    Problem,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SERVICES_PATH = "/exchange/v1/services/"
log = logging.getLogger(__name__)


class InquiryEndpoint:
    """``POST /exchange/v1/services/{service_id}``."""

    def __init__(
        self,
        handler: InquiryHandler,
        *,
        max_body: int,
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        self._handler = handler
        self._max_body = max_body
        self._headers = headers  # every answer's (nosniff; HSTS over https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if scope["method"] != "POST":
            problem = Problem(METHOD_NOT_ALLOWED, "Inquiries are sent with POST.")
            reply = InquiryReply(
                405, problem.body(instance=path), "application/problem+json", {"allow": "POST"}
            )
            await _send_reply(send, reply, self._headers)
            return
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            # A repeated field is one value, comma-joined (RFC 9110 §5.3; RFC 9421 §2.1).
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        body, too_large = await _read_body(receive, self._max_body)
        client = scope.get("client")
        request = InquiryRequest(
            service_id=path[len(SERVICES_PATH) :],
            path=path,
            headers=headers,
            body=body,
            too_large=too_large,
            method="POST",
            client_ip=client[0] if client else None,
        )
        try:
            reply = await self._handler.handle(request)
        except Exception as exc:  # noqa: BLE001 - the last guard: a bug answers a problem
            reply = _server_error(path, exc)
        await _send_reply(send, reply, self._headers)


def _server_error(path: str, exc: Exception) -> InquiryReply:
    """An unexpected error: logged with its trace under a new reference (the line the pages
    and the management API write, `panjereh.web.error_pages.log_server_error`), answered with
    the reference and nothing of the error; the server's bare "Internal Server Error" never."""
    reference = secrets.token_hex(6)
    log.error(
        "server error, reference %s: POST %s (%s)",
        reference,
        path,
        exc.__class__.__name__,
        exc_info=exc,
    )
    problem = Problem(
        SERVER_ERROR,
        "An error in the exchange stopped the inquiry; quote the reference to support.",
        reference=reference,
    )
    return InquiryReply(
        SERVER_ERROR.status,
        problem.body(instance=path),
        PROBLEM_CONTENT_TYPE,
        {"x-error-source": ErrorSource.EXCHANGE.value},
    )


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks), False


async def _send_reply(
    send: Send, reply: InquiryReply, fixed: tuple[tuple[bytes, bytes], ...]
) -> None:
    headers = [
        (b"content-type", reply.content_type.encode("latin-1")),
        (b"content-length", str(len(reply.body)).encode("latin-1")),
        *fixed,
    ]
    headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items())
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})
