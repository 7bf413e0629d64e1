"""The one security-header policy of every answer the server gives (docs/operations.md).

* every answer: ``X-Content-Type-Options: nosniff``; with an https ``PANJEREH_PUBLIC_URL``
  also ``Strict-Transport-Security`` (never over plain http: a browser would pin a site that
  has no certificate);
* every HTML answer besides: a Content-Security-Policy of this site only (no inline script or
  style anywhere in the templates, so it forbids both), no framing (``frame-ancestors`` and
  ``X-Frame-Options`` for older browsers), ``base-uri`` and ``form-action`` pinned, and a
  same-origin ``Referrer-Policy``.

`SecurityHeaders` applies it around the Starlette application (portal, citizen, operator,
API, error pages, the server-error answer included); the exchange's inquiry endpoint and the
HTTP protocol's own refusals add the headers for every answer themselves
(`transport_headers`), off the middleware's path.  A page that sets one of these headers
keeps its own value, so the operator area's `secured` repeats the same constants.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from panjereh.exchange.asgi import Receive, Scope, Send

CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000"  # one year; no includeSubDomains: the site does not own its parent
HTML_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def transport_headers(public_url: str) -> tuple[tuple[bytes, bytes], ...]:
    """The headers every answer carries, as raw ASGI pairs."""
    headers = [(b"x-content-type-options", b"nosniff")]
    if public_url.startswith("https://"):
        headers.append((b"strict-transport-security", HSTS.encode("ascii")))
    return tuple(headers)


_HTML = tuple(
    (k.lower().encode("ascii"), v.encode("ascii"))
    for k, v in HTML_HEADERS.items()
    if k != "X-Content-Type-Options"  # among the headers of every answer
)


class SecurityHeaders:
    """ASGI middleware: the policy on every HTTP answer of ``app``."""

    def __init__(self, app: Any, *, public_url: str) -> None:
        self.app = app
        self.always = transport_headers(public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._secured(list(message.get("headers", ())))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _secured(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in headers}
        html = any(
            name.lower() == b"content-type" and value.lower().startswith(b"text/html")
            for name, value in headers
        )
        wanted = self.always + _HTML if html else self.always
        headers.extend((name, value) for name, value in wanted if name not in present)
        return headers
