"""Who is calling: an API key, an RFC 9421 signature, or a trusted proxy's word.

Three ways in, one answer: the calling `System` (active, in an active agency) and how it was
authenticated.  A request that carries a ``Signature-Input`` header is judged by its signature
alone (a key beside it is ignored), so a signed caller can never be downgraded to a stolen key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from panjereh.domain.clock import Clock
from panjereh.exchange.problems import ACCESS_DENIED, UNAUTHENTICATED, Problem
from panjereh.exchange.signatures import (
    CONSUMER_REQUEST,
    RequestVerifier,
    SignatureError,
    split_key_id,
)
from panjereh.registry.credentials import hash_api_key
from panjereh.registry.model import System
from panjereh.registry.snapshot import SnapshotHolder

PROXY_HEADER = "x-verified-client-system"


class AuthMethod(StrEnum):
    API_KEY = "api-key"
    SIGNATURE = "signature"
    PROXY = "proxy"


@dataclass(frozen=True, slots=True)
class Caller:
    system: System
    method: AuthMethod
    key_id: str | None = None  # the signing key's keyid, for signed requests
    created: int | None = None  # the signature's created (Unix seconds), for signed requests


@dataclass(frozen=True, slots=True)
class Presented:
    """What a request presents for authentication (lower-case header names)."""

    method: str
    authority: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    client_ip: str | None = None


class Authenticator:
    def __init__(
        self,
        *,
        registry: SnapshotHolder,
        pepper: bytes,
        clock: Clock,
        trusted_proxies: Sequence[str] = (),
        max_signature_age: float = 300,
    ) -> None:
        self._registry = registry
        self._pepper = pepper
        self._clock = clock
        self._proxies = tuple(ipaddress.ip_network(n) for n in trusted_proxies)
        self._verifier = RequestVerifier(CONSUMER_REQUEST, max_age=max_signature_age)
        # key id -> last use; flushed to the database in the background, never per inquiry
        self.key_usage: dict[int, datetime] = {}

    def authenticate(self, presented: Presented) -> Caller:
        headers = presented.headers
        if "signature-input" in headers or "signature" in headers:
            return self._by_signature(presented)
        if PROXY_HEADER in headers and self._from_trusted_proxy(presented.client_ip):
            return self._by_proxy(headers[PROXY_HEADER])
        return Caller(self.by_api_key(headers), AuthMethod.API_KEY)

    def by_api_key(self, headers: Mapping[str, str]) -> System:
        """The calling system, from its API key; a `Problem` if there is none or it may not call."""
        scheme, _, key = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "apikey" or not key.strip():
            raise Problem(
                UNAUTHENTICATED,
                "Sign the request (RFC 9421, docs/http-signatures.md) or send your system's "
                "key as 'Authorization: ApiKey <key>'.",
            )
        snapshot = self._registry.current
        record = snapshot.keys_by_hash.get(hash_api_key(self._pepper, key.strip()))
        now = self._clock.now()
        if record is None or not record.usable_at(now):
            raise Problem(UNAUTHENTICATED, "The API key is not valid.")
        self.key_usage[record.id] = now
        return self._active(snapshot.systems.get(record.system_id))

    def _by_signature(self, presented: Presented) -> Caller:
        now = self._clock.now()
        found: dict[str, System] = {}

        def resolve(keyid: str) -> Ed25519PublicKey | None:
            parts = split_key_id(keyid)
            if parts is None:
                return None
            entry = self._registry.public_keys.get(keyid)
            if entry is None or not entry.key.usable_at(now):
                return None
            found["system"] = entry.system
            return entry.public_key

        try:
            verified = self._verifier.verify(
                method=presented.method,
                authority=presented.authority,
                path=presented.path,
                headers=presented.headers,
                body=presented.body,
                now=now.timestamp(),
                resolve_key=resolve,
            )
        except SignatureError as exc:
            raise Problem(
                UNAUTHENTICATED, f"The request signature is not valid: {exc}", reason=exc.reason
            ) from None
        system = self._registry.current.systems.get(found["system"].id)
        return Caller(self._active(system), AuthMethod.SIGNATURE, verified.key_id, verified.created)

    def _from_trusted_proxy(self, client_ip: str | None) -> bool:
        if not self._proxies or client_ip is None:
            return False
        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            return False
        return any(address in network for network in self._proxies)

    def _by_proxy(self, ident: str) -> Caller:
        system = self._registry.current.systems_by_ident.get(ident.strip())
        if system is None:
            raise Problem(UNAUTHENTICATED, "The proxy named a system the registry does not know.")
        return Caller(self._active(system), AuthMethod.PROXY)

    @staticmethod
    def _active(system: System | None) -> System:
        if system is None or not system.is_active:
            raise Problem(ACCESS_DENIED, "Your system or agency is suspended.")
        return system
