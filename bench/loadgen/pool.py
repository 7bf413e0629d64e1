"""Pre-generated inquiries: the generators send bytes from a file and do no crypto themselves.

A pool is a file of complete raw HTTP/1.1 requests separated by NUL bytes (neither JSON bodies
nor headers contain one), read by bench/wrk/pool.lua and by the open-loop generator.  The mix:

- services: Zipf (exponent ``zipf_s``) over the granted services, ranked in registry order;
- subjects: valid national codes drawn uniformly from ``subjects`` distinct codes;
- every request carries a unique X-Request-Id (the exchange keeps answers for replay);
- callers: ``signed_share`` sign with Ed25519 (RFC 9421, a unique X-Request-Id and a fresh
  ``created`` each), the others send their API key;
- ``denied_share``: two thirds ask a service nobody holds a grant on, one third declare a
  purpose their grant lacks;
- ``fault_share``: declare the purpose the stub answers 500 to (a provider error).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import importlib
import itertools
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.exchange_registry import (
    FAULT_PURPOSE,
    OTHER_PURPOSE,
    PURPOSE,
    BenchRegistry,
    Caller,
)
from panjereh.domain.identifiers import issuable_national_code

SERVICES_PATH = "/exchange/v1/services/"
_SPREAD = 2_654_435_761  # odd and not a multiple of 5: i -> i * _SPREAD mod 10^9 is one-to-one

# sign(method, authority, path, headers) -> the headers to add (signature-input, signature)
Signer = Callable[[str, str, str, Mapping[str, str]], Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class Mix:
    signed_share: float = 0.20
    denied_share: float = 0.03
    fault_share: float = 0.01
    zipf_s: float = 1.0
    subjects: int = 1_000_000
    seed: int = 1405


def national_code(index: int) -> str:
    """The ``index``-th benchmark citizen's national code (distinct for distinct indexes)."""
    while True:
        first_nine = f"{(index * _SPREAD + 123_456_789) % 1_000_000_000:09d}"
        code = issuable_national_code(first_nine)  # never a repeated digit or a zero serial
        if code is not None:
            return code.value
        index += 1_000_000_007


def content_digest(body: bytes) -> str:
    """RFC 9530 ``Content-Digest`` with SHA-256."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def _header_pair(result: object) -> dict[str, str]:
    """Whatever shape ``RequestSigner.sign`` returns, as ``{signature-input, signature}``."""
    if isinstance(result, Mapping):
        return {str(k).lower(): str(v) for k, v in result.items()}
    if isinstance(result, tuple) and len(result) == 2:
        return {"signature-input": str(result[0]), "signature": str(result[1])}
    return {
        "signature-input": str(result.signature_input),  # type: ignore[attr-defined]
        "signature": str(result.signature),  # type: ignore[attr-defined]
    }


def exchange_signer(caller: Caller) -> Signer | None:
    """A signer from ``panjereh.exchange.signatures`` if that module exists yet, else None."""
    try:
        module: Any = importlib.import_module("panjereh.exchange.signatures")
    except ImportError:
        return None
    profile = getattr(module, "CONSUMER_REQUEST", None)
    if profile is None:
        profile = getattr(getattr(module, "SignatureProfile", None), "CONSUMER_REQUEST", None)
    signer = module.RequestSigner(caller.signing_key, caller.signature_key_id, profile)

    def sign(method: str, authority: str, path: str, headers: Mapping[str, str]) -> dict[str, str]:
        result = signer.sign(
            method=method,
            authority=authority,
            path=path,
            headers=dict(headers),
            created=int(time.time()),
        )
        return _header_pair(result)

    return sign


@dataclass
class PoolStats:
    requests: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    distinct_services: int = 0
    distinct_subjects: int = 0
    bytes: int = 0
    signed_fallback: bool = False  # the signed share sent API keys instead


class PoolBuilder:
    def __init__(
        self,
        registry: BenchRegistry,
        mix: Mix,
        *,
        authority: str,
        signers: Mapping[str, Signer] | None,
    ) -> None:
        self._registry = registry
        self._mix = mix
        self._authority = authority
        self._signers = signers  # caller ref -> signer; None: signed share sends API keys
        ranks = range(1, len(registry.services) + 1)
        self._cumulative = list(itertools.accumulate(1 / r**mix.zipf_s for r in ranks))
        self._random = random.Random(mix.seed)

    def reseed(self, seed: int) -> None:
        self._random = random.Random(seed)

    def _zipf_service(self) -> str:
        point = self._random.random() * self._cumulative[-1]
        index = min(bisect.bisect_left(self._cumulative, point), len(self._cumulative) - 1)
        return self._registry.services[index]

    def _target(self) -> tuple[str, str, str]:
        """(kind, service id, purpose) of one request."""
        mix, draw = self._mix, self._random.random()
        if draw < mix.fault_share:
            return "fault", self._zipf_service(), FAULT_PURPOSE
        if draw < mix.fault_share + mix.denied_share * 2 / 3:
            return "denied", self._random.choice(self._registry.ungranted_services), PURPOSE
        if draw < mix.fault_share + mix.denied_share:
            return "denied", self._zipf_service(), OTHER_PURPOSE
        return "ok", self._zipf_service(), PURPOSE

    def one(self, serial: int) -> tuple[str, bool, str, bytes]:
        """(kind, signed, subject, raw request) of one inquiry."""
        kind, service, purpose = self._target()
        subject = national_code(self._random.randrange(self._mix.subjects))
        body = orjson.dumps(
            {
                "national_code": subject,
                "as_of": "2026-11-28",
                "detail": "summary" if serial % 4 else "full",
                "case_reference": f"BR-{serial:08d}",
            }
        )
        path = SERVICES_PATH + service
        caller = self._random.choice(self._registry.callers)
        headers = {"x-purpose": purpose, "x-request-id": str(uuid.uuid4())}
        signed = self._random.random() < self._mix.signed_share and self._signers is not None
        if signed and self._signers is not None:
            headers["content-digest"] = content_digest(body)
            headers.update(self._signers[caller.ref]("POST", self._authority, path, headers))
        else:
            headers["authorization"] = f"ApiKey {caller.api_key}"
        head = [
            f"POST {path} HTTP/1.1",
            f"Host: {self._authority}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        return kind, signed, subject, raw

    def write(self, path: Path, count: int) -> PoolStats:
        stats = PoolStats(requests=count, signed_fallback=self._signers is None)
        services: set[bytes] = set()
        subjects: set[str] = set()
        with path.open("wb") as out:
            for serial in range(count):
                kind, signed, subject, raw = self.one(serial)
                stats.kinds[kind] += 1
                stats.kinds["signed" if signed else "api_key"] += 1
                services.add(raw[5 : raw.index(b" ", 5)])
                subjects.add(subject)
                stats.bytes += len(raw)
                out.write(raw + b"\0")
        stats.distinct_services = len(services)
        stats.distinct_subjects = len(subjects)
        return stats
