"""The provider side of the exchange: the one HTTP client on the hot path.

Calls go through the exchange's own lean HTTP/1.1 client (`panjereh.exchange.http1`: keep-alive
pool, httptools parser): aiohttp's general client cost ~75 µs of CPU per call here against
~25 µs (docs/adr/0005-lean-provider-client.md); httpx measured ~10x slower than aiohttp under
load (shared/NOTES.md).  Every failure becomes a provider `Problem`.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from panjereh.exchange.http1 import (
    AnswerTooLarge,
    ConnectFailed,
    ConnectionDropped,
    Endpoint,
    Http1Client,
    InvalidAnswer,
    endpoint,
    request_bytes,
)
from panjereh.exchange.problems import (
    PROVIDER_ERROR,
    PROVIDER_TIMEOUT,
    PROVIDER_UNAVAILABLE,
    Problem,
)

MAX_PROVIDER_RESPONSE = 4 * 1024 * 1024
MAX_ENDPOINTS = 10_000


@dataclass(frozen=True, slots=True)
class ProviderReply:
    status: int
    body: bytes
    content_type: str


class ProviderTransport:
    def __init__(
        self,
        *,
        max_response_bytes: int = MAX_PROVIDER_RESPONSE,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._max = max_response_bytes
        self._ssl = ssl_context
        self._client: Http1Client | None = None
        self._endpoints: dict[str, Endpoint] = {}

    async def start(self) -> None:
        if self._client is None:
            # No pool limit here: each provider's bulkhead caps its calls, and admission control
            # caps the worker's, so waiting happens (or is refused) where it is measured.
            self._client = Http1Client(max_response_bytes=self._max, ssl_context=self._ssl)

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    def endpoint(self, url: str) -> Endpoint:
        """The parsed form of a provider URL (kept: the registry holds a bounded set)."""
        found = self._endpoints.get(url)
        if found is None:
            if len(self._endpoints) >= MAX_ENDPOINTS:
                self._endpoints.clear()
            found = self._endpoints[url] = endpoint(url)
        return found

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> ProviderReply:
        """POST ``body`` to the provider; every failure becomes a provider `Problem`."""
        if self._client is None:
            raise RuntimeError("transport not started")
        try:
            where = self.endpoint(url)
            request = request_bytes(where, headers.items(), body)
        except ValueError:
            raise Problem(PROVIDER_ERROR, "The provider's address cannot be called.") from None
        try:
            answer = await self._client.post(where, request, timeout)
        except TimeoutError:
            raise Problem(
                PROVIDER_TIMEOUT, f"The provider did not answer within {timeout:g} seconds."
            ) from None
        except (ConnectFailed, ConnectionDropped, OSError):
            raise Problem(PROVIDER_UNAVAILABLE, "The provider could not be reached.") from None
        except AnswerTooLarge:
            raise Problem(PROVIDER_ERROR, "The provider's answer is too large.") from None
        except InvalidAnswer:
            raise Problem(PROVIDER_ERROR, "The provider's answer was not valid HTTP.") from None
        if 300 <= answer.status < 400:  # never followed: the registry says where
            raise Problem(
                PROVIDER_ERROR, f"The provider answered a redirect (HTTP {answer.status})."
            )
        return ProviderReply(answer.status, answer.body, answer.content_type)
