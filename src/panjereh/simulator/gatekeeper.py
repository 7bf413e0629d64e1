"""The simulated agencies accept only requests the exchange has signed.

A real agency would do the same with whatever RFC 9421 library its stack has, so this one uses
the generic ``http-message-signatures`` package (not the exchange's own code, which it may not
import) and the exchange's published keys: the JWKS that ``GET /exchange/v1/keys`` serves,
handed in by the composition root as a callable so a key rotation is seen at once.  Every POST
must carry a valid signature over the provider-request components, at most five minutes old,
with a Content-Digest matching the body; anything else gets ``401`` and never reaches the
agency.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import HTTPMessageVerifier, MappingKeyResolver, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Jwks = Callable[[], Mapping[str, Any]]

REQUIRED = (
    "@method",
    "@authority",
    "@path",
    "content-digest",
    "x-exchange-id",
    "x-consumer-system",
    "x-purpose",
)
MAX_AGE = datetime.timedelta(minutes=5)
MAX_BODY = 1024 * 1024


@dataclass
class _Request:
    """What the library reads of a request: method, URL and headers."""

    method: str
    url: str
    headers: dict[str, str]


def _public_keys(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    found = {}
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        raw = base64.urlsafe_b64decode(str(jwk["x"]) + "=" * (-len(str(jwk["x"])) % 4))
        found[str(jwk["kid"])] = Ed25519PublicKey.from_public_bytes(raw)
    return found


class ExchangeSignatureGate:
    """ASGI middleware in front of the simulated agencies."""

    def __init__(self, app: ASGIApp, jwks: Jwks) -> None:
        self._app = app
        self._jwks = jwks
        self._seen: Mapping[str, Any] | None = None
        self._verifier: HTTPMessageVerifier | None = None

    def _current(self) -> HTTPMessageVerifier:
        jwks = self._jwks()
        if self._verifier is None or jwks is not self._seen:
            resolver = MappingKeyResolver(public_keys=_public_keys(jwks), private_keys={})
            self._verifier = HTTPMessageVerifier(
                signature_algorithm=algorithms.ED25519, key_resolver=resolver
            )
            self._seen = jwks
        return self._verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        body, complete = await _read(receive)
        if not complete or not self._verified(scope, body):
            await _refuse(send)
            return
        await self._app(scope, _replay(body), send)

    def _verified(self, scope: Scope, body: bytes) -> bool:
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        raw_path = scope.get("raw_path") or scope["path"].encode("latin-1")
        path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else str(raw_path)
        request = _Request("POST", f"http://{headers.get('host', '')}{path}", headers)
        try:
            self._current().verify(request, max_age=MAX_AGE, require_components=REQUIRED, body=body)
        except (HTTPMessageSignaturesException, ValueError, KeyError):
            return False
        return True


async def _read(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", False
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _refuse(send: Send) -> None:
    body = orjson.dumps(
        {
            "type": "/problems/exchange-signature-required",
            "title": "Not signed by the exchange",
            "status": 401,
            "code": "exchange-signature-required",
            "detail": "This agency answers only requests signed by the exchange.",
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
