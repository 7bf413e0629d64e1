"""The provider side of an inquiry: breaker, bulkhead, retries, the exchange's signature.

Every forwarded request is signed with the exchange's active key (the provider-request profile
of docs/http-signatures.md) and carries ``X-Exchange-Id``, ``X-Consumer-System`` and
``X-Purpose``.  A provider system's circuit breaker opens on consecutive failures or a failure
rate and refuses calls at once while open; its bulkhead caps the calls in flight to it, so one
slow agency cannot take every connection; a service marked idempotent is retried on transport
failures and 502/503/504 answers, within its timeout and a retry budget per provider.  A call
refused for the provider's address (``provider-address-refused``) is not retried: the name
would lead to the same place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from panjereh.exchange.keys import ExchangeKeys
from panjereh.exchange.problems import (
    CIRCUIT_OPEN,
    OVERLOADED,
    PROVIDER_ERROR,
    PROVIDER_TIMEOUT,
    PROVIDER_UNAVAILABLE,
    Problem,
)
from panjereh.exchange.resilience import (
    Breakers,
    BreakerSettings,
    BulkheadFull,
    Bulkheads,
    CircuitOpen,
    RetryBudgets,
    call_with_retries,
)
from panjereh.exchange.signatures import PROVIDER_REQUEST, RequestSigner
from panjereh.exchange.transport import ProviderReply, ProviderTransport
from panjereh.registry.model import Service

RETRYABLE_STATUS = frozenset({502, 503, 504})
_TRANSPORT_FAILURES = frozenset({PROVIDER_UNAVAILABLE.code, PROVIDER_TIMEOUT.code})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Target:
    """Where a service's endpoint is, as the signature covers it."""

    url: str
    authority: str
    path: str


def target_of(url: str) -> Target:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    port = parts.port
    authority = host if port in (None, _DEFAULT_PORTS.get(parts.scheme)) else f"{host}:{port}"
    return Target(url, authority, parts.path or "/")


@dataclass(frozen=True, slots=True)
class Forwarded:
    reply: ProviderReply
    provider_ms: float
    attempts: int
    document: Any = None  # the answer's JSON, parsed once; None when `usable` is False
    usable: bool = False  # a JSON answer below 500 that parsed


JSON_MEDIA = frozenset({"application/json", "application/problem+json"})


def _parsed(reply: ProviderReply) -> tuple[bool, Any]:
    """(usable, document): a JSON answer below 500 that parses; anything else is the
    provider's failure (and counts against its breaker)."""
    if reply.status >= 500:
        return False, None
    if reply.content_type.split(";", 1)[0].strip().lower() not in JSON_MEDIA:
        return False, None
    try:
        return True, orjson.loads(reply.body)
    except orjson.JSONDecodeError:
        return False, None


def _is_failure(outcome: ProviderReply | Exception) -> bool:
    """What counts against the provider: it was unreachable, slow, or answered 5xx."""
    if isinstance(outcome, ProviderReply):
        return outcome.status >= 500
    return isinstance(outcome, Problem)


def _retryable(outcome: ProviderReply | Exception) -> bool:
    if isinstance(outcome, ProviderReply):
        return outcome.status in RETRYABLE_STATUS
    return isinstance(outcome, Problem) and outcome.kind.code == PROVIDER_UNAVAILABLE.code


class ProviderGateway:
    def __init__(
        self,
        *,
        transport: ProviderTransport,
        keys: Callable[[], ExchangeKeys],
        default_timeout: float,
        concurrency: int,
        retry_attempts: int = 2,
        breaker: BreakerSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._transport = transport
        self._keys = keys
        self._default_timeout = default_timeout
        self._attempts = retry_attempts
        self._clock = clock
        self._wall = wall
        self.breakers = Breakers(breaker or BreakerSettings(), clock=clock)
        self.bulkheads = Bulkheads(concurrency)
        self.budgets = RetryBudgets(clock=clock)
        self._targets: dict[str, Target] = {}
        self._signer: tuple[str, RequestSigner] | None = None

    def _signer_now(self) -> RequestSigner:
        keys = self._keys()
        if self._signer is None or self._signer[0] != keys.active_id:
            signer = RequestSigner(keys.private_key, keys.active_id, PROVIDER_REQUEST)
            self._signer = (keys.active_id, signer)
        return self._signer[1]

    def _target(self, service: Service) -> Target:
        target = self._targets.get(service.endpoint_url)
        if target is None:
            if len(self._targets) > 10_000:
                self._targets.clear()
            target = self._targets[service.endpoint_url] = target_of(service.endpoint_url)
        return target

    def signed_headers(self, target: Target, headers: dict[str, str]) -> dict[str, str]:
        headers.update(
            self._signer_now().sign(
                method="POST",
                authority=target.authority,
                path=target.path,
                headers=headers,
                created=self._wall(),
            )
        )
        return headers

    async def forward(self, service: Service, body: bytes, headers: dict[str, str]) -> Forwarded:
        """POST ``body`` to the service's provider; a `Problem` for every refusal or failure.

        ``headers`` must hold ``content-digest``, ``x-exchange-id``, ``x-consumer-system`` and
        ``x-purpose``; the signature is added here.
        """
        provider = service.provider_system_id
        breaker = self.breakers.get(provider)
        try:
            ticket = breaker.check()
        except CircuitOpen as exc:
            raise Problem(
                CIRCUIT_OPEN,
                "The provider has been failing; the exchange is not calling it for a moment.",
                retry_after=exc.retry_after_header,
            ) from None
        bulkhead = self.bulkheads.get(provider)
        if not bulkhead.try_acquire():
            breaker.release(ticket)
            full = BulkheadFull(bulkhead.retry_after, "")
            raise Problem(
                OVERLOADED,
                "Too many inquiries are waiting for this provider; retry shortly.",
                retry_after=full.retry_after_header,
            )
        started = self._clock()
        attempts = 0
        target = self._target(service)
        signed = self.signed_headers(target, headers)
        timeout = service.timeout_ms / 1000 if service.timeout_ms else self._default_timeout

        async def attempt(left: float) -> ProviderReply:
            nonlocal attempts
            attempts += 1
            return await self._transport.post(
                target.url,
                body,
                signed,
                max(left, 0.001),
                policy=service.agency.network,
                service=service.id,
            )

        try:
            reply = await call_with_retries(
                attempt,
                deadline=started + timeout,
                retryable=_retryable,
                attempts=self._attempts if service.idempotent else 1,
                budget=self.budgets.get(provider),
                clock=self._clock,
            )
        except Problem as problem:
            breaker.record(not _is_failure(problem), ticket)
            raise
        except BaseException:
            breaker.release(ticket)
            raise
        finally:
            bulkhead.release()
        usable, document = _parsed(reply)
        breaker.record(usable, ticket)  # junk with a 200 counts against the provider too
        elapsed = round((self._clock() - started) * 1000, 3)
        return Forwarded(reply, elapsed, attempts, document, usable)


def provider_failure(reply: ProviderReply) -> Problem:
    return Problem(PROVIDER_ERROR, f"The provider failed (HTTP {reply.status}).")
