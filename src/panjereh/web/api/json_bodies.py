"""The management API refuses JSON bodies that repeat a key, as the exchange does, and bodies
that are not UTF-8 (as malformed JSON).

FastAPI reads bodies with ``json.loads``, which keeps the last of two equal keys: a grant
request ``{"purposes": [...], "purposes": [...]}`` would be stored with the second list while
a reviewer reading the first saw another.  This middleware reads a JSON body before the
route does, checks it with the exchange's check (`panjereh.exchange.json_body`), and answers
the API's own 422 ``invalid-request`` envelope when an object repeats a key; otherwise the
route receives the body unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

from panjereh.exchange.json_body import JsonBodyError, Refusal, refuse_repeated_keys
from panjereh.web.api.errors import problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RefuseRepeatedKeys:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        messages, body = await _read(receive)
        refusal = _refusal(body)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, _replaying(messages, receive), send)


def _is_json(scope: Scope) -> bool:
    """A JSON media type, or none at all (FastAPI before 0.12x parsed those as JSON)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True


async def _read(receive: Receive) -> tuple[list[Message], bytes]:
    messages: list[Message] = []
    more = True
    while more:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        more = message.get("more_body", False)
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    return messages, body


def _refusal(body: bytes) -> JSONResponse | None:
    """The 422 answer for a body that is not UTF-8 or repeats a key (or nests too deep to be
    checked); None for anything else: a body that is not JSON is left to the route, which
    answers as before.  JSON between systems is UTF-8 (RFC 8259 §8.1); ``json.loads`` would
    guess UTF-16 or UTF-32 from the first bytes and take them, and other bytes are no JSON."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        message = "The request body must be JSON in UTF-8."
        error = {"field": "body", "message": message}
        return problem(422, "invalid-request", "Invalid request", message, errors=[error])
    try:
        refuse_repeated_keys(body)
    except JsonBodyError as exc:
        if exc.refusal is Refusal.NOT_JSON:
            return None
        error = {"field": "body", "message": exc.message}
        return problem(422, "invalid-request", "Invalid request", exc.message, errors=[error])
    return None


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
