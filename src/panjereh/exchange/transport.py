"""The provider side of the exchange: the one HTTP client on the hot path (aiohttp).

httpx measured ~10x slower under load on these machines (shared/NOTES.md), so aiohttp it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from panjereh.exchange.problems import (
    PROVIDER_ERROR,
    PROVIDER_TIMEOUT,
    PROVIDER_UNAVAILABLE,
    Problem,
)

MAX_PROVIDER_RESPONSE = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ProviderReply:
    status: int
    body: bytes
    content_type: str


class ProviderTransport:
    def __init__(self, *, max_response_bytes: int = MAX_PROVIDER_RESPONSE) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._max = max_response_bytes

    async def start(self) -> None:
        if self._session is None:
            # No pool limit here: each provider's bulkhead caps its calls, and admission control
            # caps the worker's, so waiting happens (or is refused) where it is measured.
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=300)
            # aiohttp's own timeouts are off (ClientTimeout() has none): each call runs under
            # one asyncio.timeout of its service, so there is one timer per call, not three.
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=True,
                raise_for_status=False,
                timeout=aiohttp.ClientTimeout(),
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> ProviderReply:
        """POST ``body`` to the provider; every failure becomes a provider `Problem`."""
        if self._session is None:
            raise RuntimeError("transport not started")
        try:
            async with asyncio.timeout(timeout):
                async with self._session.post(
                    url, data=body, headers=headers, allow_redirects=False
                ) as response:
                    if 300 <= response.status < 400:  # never followed: the registry says where
                        raise Problem(
                            PROVIDER_ERROR,
                            f"The provider answered a redirect (HTTP {response.status}).",
                        )
                    data = await response.content.read(self._max + 1)
                    if len(data) > self._max:
                        raise Problem(PROVIDER_ERROR, "The provider's answer is too large.")
                    return ProviderReply(
                        status=response.status,
                        body=data,
                        content_type=response.headers.get("Content-Type", ""),
                    )
        except TimeoutError:
            raise Problem(
                PROVIDER_TIMEOUT, f"The provider did not answer within {timeout:g} seconds."
            ) from None
        except (aiohttp.ClientConnectionError, OSError):
            raise Problem(PROVIDER_UNAVAILABLE, "The provider could not be reached.") from None
        except aiohttp.ClientError:
            raise Problem(PROVIDER_ERROR, "The provider's answer was not valid HTTP.") from None
