"""The provider side of the exchange: the one HTTP client on the hot path.

Calls go through the exchange's own lean HTTP/1.1 client (`panjereh.exchange.http1`: keep-alive
pool, httptools parser): aiohttp's general client cost ~75 µs of CPU per call here against
~25 µs (docs/adr/0005-lean-provider-client.md); httpx measured ~10x slower than aiohttp under
load (shared/NOTES.md).  Every failure becomes a provider `Problem`.

Each call carries the provider agency's `NetworkPolicy`; new connections are admitted by the
gate of that policy under the process's `EgressRules` (`panjereh.exchange.egress`), and a
refusal becomes ``provider-address-refused``, logged (service, host, address, why; at most once
a minute for the same ones) and never retried.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from panjereh.exchange.egress import EgressGate, EgressRules, OwnServer
from panjereh.exchange.http1 import (
    AddressRefused,
    AnswerTooLarge,
    ConnectFailed,
    ConnectionDropped,
    Dialer,
    Endpoint,
    Http1Client,
    InvalidAnswer,
    endpoint,
    request_bytes,
)
from panjereh.exchange.problems import (
    PROVIDER_ADDRESS_REFUSED,
    PROVIDER_ERROR,
    PROVIDER_TIMEOUT,
    PROVIDER_UNAVAILABLE,
    Problem,
)
from panjereh.registry.addresses import DEFAULT_POLICY, NetworkPolicy

log = logging.getLogger(__name__)

MAX_PROVIDER_RESPONSE = 4 * 1024 * 1024
MAX_ENDPOINTS = 10_000
REFUSAL_LOG_SECONDS = 60.0  # one log line per service, host and address in this time


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
        egress: EgressRules | None = None,
        dialer: Dialer | None = None,
    ) -> None:
        self._max = max_response_bytes
        self._ssl = ssl_context
        self._client: Http1Client | None = None
        self._endpoints: dict[str, Endpoint] = {}
        self._egress = egress if egress is not None else EgressRules()
        self._gates: dict[NetworkPolicy, EgressGate] = {}
        self._dialer = dialer if dialer is not None else Dialer()
        self._logged: dict[tuple[str, str, str], float] = {}

    @property
    def egress(self) -> EgressRules:
        return self._egress

    @property
    def dialer(self) -> Dialer:
        return self._dialer

    @dialer.setter
    def dialer(self, dialer: Dialer) -> None:
        """Tests answer names and make connections themselves (no real private network)."""
        self._dialer = dialer
        if self._client is not None:
            self._client.dialer = dialer

    def protect(self, own: Iterable[OwnServer]) -> None:
        """Never call these servers of the platform's own (the runtime resolves them from the
        settings when it starts)."""
        self._egress = replace(self._egress, own=tuple(own))
        self._gates.clear()

    async def start(self) -> None:
        if self._client is None:
            # No pool limit here: each provider's bulkhead caps its calls, and admission control
            # caps the worker's, so waiting happens (or is refused) where it is measured.
            self._client = Http1Client(
                max_response_bytes=self._max, ssl_context=self._ssl, dialer=self._dialer
            )

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

    def _gate(self, policy: NetworkPolicy) -> EgressGate:
        """One gate per distinct policy (equal policies of successive snapshots share it, so
        kept-alive connections are not checked again after every registry refresh)."""
        gate = self._gates.get(policy)
        if gate is None:
            if len(self._gates) >= MAX_ENDPOINTS:
                self._gates.clear()
            gate = self._gates[policy] = self._egress.gate(policy)
        return gate

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        timeout: float,
        *,
        policy: NetworkPolicy = DEFAULT_POLICY,
        service: str = "",
    ) -> ProviderReply:
        """POST ``body`` to the provider, whose agency's network ``policy`` says where it may
        be; every failure becomes a provider `Problem`.  ``service`` names it in the log."""
        if self._client is None:
            raise RuntimeError("transport not started")
        try:
            where = self.endpoint(url)
            request = request_bytes(where, headers.items(), body)
        except ValueError:
            raise Problem(PROVIDER_ERROR, "The provider's address cannot be called.") from None
        try:
            answer = await self._client.post(where, request, timeout, self._gate(policy))
        except AddressRefused as refused:
            self._log_refusal(service, refused, where.port)
            raise Problem(
                PROVIDER_ADDRESS_REFUSED,
                "The exchange does not call the address the provider's endpoint leads to; "
                "the provider's agency must correct its endpoint or an operator its network "
                "record.",
            ) from None
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

    def _log_refusal(self, service: str, refused: AddressRefused, port: int) -> None:
        key = (service, refused.host, f"{refused.address} {port}")
        now = time.monotonic()
        if now - self._logged.get(key, -REFUSAL_LOG_SECONDS) < REFUSAL_LOG_SECONDS:
            return
        if len(self._logged) >= MAX_ENDPOINTS:
            self._logged.clear()
        self._logged[key] = now
        log.warning(
            "provider address refused: service %s, host %s, address %s, port %d: %s",
            service or "-",
            refused.host,
            refused.address,
            port,
            refused.reason,
        )
