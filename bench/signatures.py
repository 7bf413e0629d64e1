"""HTTP Message Signatures: µs per sign and per verify, ours against the generic library.

Ours is panjereh.exchange.signatures (a strict parser and the signature base built directly);
the library is ``http-message-signatures`` with its Ed25519 algorithm, asked for the same
components and parameters.  Raw Ed25519 over a signature base of the same size is the floor.
Verification includes the Content-Digest check of a 300-byte body in both.
Results: bench/results/signatures.json.
"""

from __future__ import annotations

import datetime
import json
import platform
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nacl.bindings
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

from panjereh.exchange.signatures import (
    CONSUMER_REQUEST,
    RESPONSE,
    RequestSigner,
    RequestVerifier,
    ResponseSigner,
    ResponseVerifier,
    content_digest,
    signature_base,
)

RESULTS = Path(__file__).parent / "results" / "signatures.json"
KEY_ID = "social-security/benefits/2026-11"
EXCHANGE_KEY_ID = "exchange-20261128T090000Z-a1b2c3"
AUTHORITY = "exchange.example.ir"
PATH = "/exchange/v1/services/civil-registry.person.v1"
URL = f"https://{AUTHORITY}{PATH}"
BODY = (b'{"national_code":"3066557359","purpose":"benefit-eligibility","padding":"' + b"x" * 300)[
    :300
]


@dataclass
class _Request:
    method: str
    url: str
    headers: dict[str, str]


@dataclass
class _Response:
    status_code: int
    headers: dict[str, str]
    request: _Request


Action = Callable[[], object]


def measure(actions: dict[str, tuple[Action, int]]) -> dict[str, float]:
    """Median µs per call over three runs, the runs of all actions interleaved.

    Interleaving keeps a machine's drifting load (other processes) from favouring whichever
    action happened to run in a quiet moment; the comparison is what matters here.
    """
    runs: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(3):
        for name, (action, number) in actions.items():
            runs[name].append(timeit.timeit(action, number=number) / number * 1e6)
    return {name: round(sorted(times)[1], 1) for name, times in runs.items()}


def _request_headers() -> dict[str, str]:
    return {
        "content-type": "application/json",
        "content-digest": content_digest(BODY),
        "x-request-id": "0b7c0d9e-5d1c-4a8e-9d7a-2f4c1b7f3e11",
        "x-purpose": "benefit-eligibility",
    }


def ours(
    key: Ed25519PrivateKey, exchange_key: Ed25519PrivateKey, n: int
) -> dict[str, tuple[Action, int]]:
    now = time.time()
    headers = _request_headers()
    signer = RequestSigner(key, KEY_ID)
    signed = headers | signer.sign(
        method="POST", authority=AUTHORITY, path=PATH, headers=headers, created=now
    )
    verifier = RequestVerifier()
    public = key.public_key()
    answer = {"content-digest": content_digest(BODY), "x-exchange-id": "01JDQ3W4Z8K5T3V1B9N7M2C6XE"}
    response_signer = ResponseSigner(exchange_key, EXCHANGE_KEY_ID)
    signed_answer = answer | response_signer.sign(
        status=200, headers=answer, request_headers=signed, created=now
    )
    response_verifier = ResponseVerifier()
    exchange_public = exchange_key.public_key()

    def verify_request() -> object:
        return verifier.verify(
            method="POST", authority=AUTHORITY, path=PATH, headers=signed, body=BODY,
            now=now, resolve_key=lambda _: public,
        )  # fmt: skip

    def verify_response() -> object:
        return response_verifier.verify(
            status=200, headers=signed_answer, body=BODY, request_headers=signed,
            resolve_key=lambda _: exchange_public,
        )  # fmt: skip

    return {
        "ours_request_sign": (
            lambda: signer.sign(
                method="POST", authority=AUTHORITY, path=PATH, headers=headers, created=now
            ),
            n,
        ),
        "ours_request_verify": (verify_request, n),
        "ours_response_sign": (
            lambda: response_signer.sign(
                status=200, headers=answer, request_headers=signed, created=now
            ),
            n,
        ),
        "ours_response_verify": (verify_response, n),
    }


def library(
    key: Ed25519PrivateKey, exchange_key: Ed25519PrivateKey, n: int
) -> dict[str, tuple[Action, int]]:
    created = datetime.datetime.now(datetime.UTC)
    covered = [component.name for component in CONSUMER_REQUEST.components]
    response_covered = [component.identifier for component in RESPONSE.components]
    resolver = MappingKeyResolver(
        public_keys={KEY_ID: key.public_key(), EXCHANGE_KEY_ID: exchange_key.public_key()},
        private_keys={KEY_ID: key, EXCHANGE_KEY_ID: exchange_key},
    )
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=resolver)
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=resolver)
    request = _Request("POST", URL, _request_headers())
    answer = {"content-digest": content_digest(BODY), "x-exchange-id": "01JDQ3W4Z8K5T3V1B9N7M2C6XE"}
    response = _Response(200, answer, request)

    def sign_request() -> None:
        signer.sign(
            request, key_id=KEY_ID, created=created, label="sig",
            covered_component_ids=covered, use_existing_digest=True,
        )  # fmt: skip

    def sign_response() -> None:
        signer.sign(
            response, key_id=EXCHANGE_KEY_ID, created=created, label="sig",
            covered_component_ids=response_covered, use_existing_digest=True,
        )  # fmt: skip

    sign_request()
    sign_response()
    return {
        "library_request_sign": (sign_request, n),
        "library_request_verify": (
            lambda: verifier.verify(request, require_components=covered, body=BODY),
            n,
        ),
        "library_response_sign": (sign_response, n),
        "library_response_verify": (
            lambda: verifier.verify(response, require_components=response_covered, body=BODY),
            n,
        ),
    }


def raw(key: Ed25519PrivateKey, n: int) -> tuple[dict[str, tuple[Action, int]], int]:
    headers = _request_headers()
    added = RequestSigner(key, KEY_ID).sign(
        method="POST", authority=AUTHORITY, path=PATH, headers=headers, created=time.time()
    )
    base = signature_base(
        added["signature-input"], headers=headers, method="POST", authority=AUTHORITY, path=PATH
    ).encode()
    signature = key.sign(base)
    public = key.public_key()
    _, secret = nacl.bindings.crypto_sign_seed_keypair(key.private_bytes_raw())
    public_raw = public.public_bytes_raw()
    actions: dict[str, tuple[Action, int]] = {
        "raw_ed25519_sign": (lambda: key.sign(base), n),
        "raw_ed25519_verify": (lambda: public.verify(signature, base), n),
        # the primitive our profile calls (docs/adr/0005-exchange-hot-path.md)
        "raw_libsodium_sign": (lambda: nacl.bindings.crypto_sign(base, secret), n),
        "raw_libsodium_verify": (
            lambda: nacl.bindings.crypto_sign_open(signature + base, public_raw),
            n,
        ),
    }
    return actions, len(base)


def main(n: int = 2000) -> dict[str, float]:
    key = Ed25519PrivateKey.generate()
    exchange_key = Ed25519PrivateKey.generate()
    floor, base_bytes = raw(key, n)
    results = measure(floor | ours(key, exchange_key, n) | library(key, exchange_key, n // 4))
    for operation in ("sign", "verify"):
        for side in ("ours", "library"):
            floor_name = "raw_libsodium" if side == "ours" else "raw_ed25519"
            extra = results[f"{side}_request_{operation}"] - results[f"{floor_name}_{operation}"]
            results[f"{side}_request_{operation}_over_raw"] = round(extra, 1)
    report = {
        "unit": "microseconds per operation (median of 3 interleaved runs), one process",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "signature_base_bytes": base_bytes,
        "body_bytes": len(BODY),
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return results


if __name__ == "__main__":
    for name, value in main().items():
        print(f"{name:32} {value:8.1f}")
