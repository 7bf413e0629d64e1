"""HTTP Message Signatures (RFC 9421): the exchange's Ed25519 profiles, parser and interop."""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import pickle
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)
from hypothesis import given
from hypothesis import strategies as st

from panjereh.exchange import signatures as sigs
from panjereh.exchange.signatures import (
    CONSUMER_REQUEST,
    PROVIDER_REQUEST,
    RESPONSE,
    Component,
    Profile,
    Reason,
    RequestSigner,
    RequestVerifier,
    ResponseSigner,
    ResponseVerifier,
    SignatureError,
    content_digest,
    format_key_id,
    signature_base,
    split_key_id,
)

CONSUMER_KEY_ID = "social-security/benefits/2026-11"
EXCHANGE_KEY_ID = "exchange-20261128T090000Z-a1b2c3"
NOW = 1_796_000_000.0
AUTHORITY = "exchange.example.ir"
PATH = "/exchange/v1/services/civil-registry.person.v1"
BODY = b'{"national_code":"3066557359"}'
ANSWER = b'{"national_code":"3066557359","alive":true}'

CONSUMER_KEY = Ed25519PrivateKey.generate()
EXCHANGE_KEY = Ed25519PrivateKey.generate()
KEYS: dict[str, Ed25519PublicKey] = {
    CONSUMER_KEY_ID: CONSUMER_KEY.public_key(),
    EXCHANGE_KEY_ID: EXCHANGE_KEY.public_key(),
}


def resolve(keyid: str) -> Ed25519PublicKey | None:
    return KEYS.get(keyid)


def consumer_headers(body: bytes = BODY) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "content-digest": content_digest(body),
        "x-request-id": "0b7c0d9e-5d1c-4a8e-9d7a-2f4c1b7f3e11",
        "x-purpose": "benefit-eligibility",
    }


def signed_request(created: float = NOW, expires: float | None = None) -> dict[str, str]:
    headers = consumer_headers()
    signer = RequestSigner(CONSUMER_KEY, CONSUMER_KEY_ID)
    added = signer.sign(
        method="POST",
        authority=AUTHORITY,
        path=PATH,
        headers=headers,
        created=created,
        expires=expires,
    )
    return headers | added


def verify_request(
    headers: Mapping[str, str],
    *,
    method: str = "POST",
    authority: str = AUTHORITY,
    path: str = PATH,
    body: bytes = BODY,
    now: float = NOW,
    verifier: RequestVerifier | None = None,
) -> sigs.Verified:
    return (verifier or RequestVerifier()).verify(
        method=method,
        authority=authority,
        path=path,
        headers=headers,
        body=body,
        now=now,
        resolve_key=resolve,
    )


def response_headers(body: bytes = ANSWER) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "content-digest": content_digest(body),
        "x-exchange-id": "01JDQ3W4Z8K5T3V1B9N7M2C6XE",
    }


def signed_response(status: int = 200) -> tuple[dict[str, str], dict[str, str]]:
    request = consumer_headers()
    headers = response_headers()
    signer = ResponseSigner(EXCHANGE_KEY, EXCHANGE_KEY_ID)
    headers |= signer.sign(status=status, headers=headers, request_headers=request, created=NOW)
    return headers, request


def refusal(error: pytest.ExceptionInfo[SignatureError]) -> str:
    return error.value.reason.value


# -- round trips ---------------------------------------------------------------------------


def test_a_consumer_request_round_trips() -> None:
    verified = verify_request(signed_request())
    assert verified.key_id == CONSUMER_KEY_ID
    assert verified.created == int(NOW)
    assert verified.covered == CONSUMER_REQUEST.components


def test_the_signature_headers_have_the_documented_form() -> None:
    headers = signed_request()
    assert headers["signature-input"] == (
        'sig=("@method" "@authority" "@path" "content-digest" "x-request-id" "x-purpose")'
        f';created={int(NOW)};keyid="{CONSUMER_KEY_ID}";alg="ed25519"'
    )
    assert headers["signature"].startswith("sig=:")
    assert headers["signature"].endswith(":")
    assert len(base64.b64decode(headers["signature"][5:-1])) == 64


def test_a_provider_request_round_trips() -> None:
    headers = consumer_headers() | {
        "x-exchange-id": "01JDQ3W4Z8K5T3V1B9N7M2C6XE",
        "x-consumer-system": "social-security/benefits",
    }
    signer = RequestSigner(EXCHANGE_KEY, EXCHANGE_KEY_ID, PROVIDER_REQUEST)
    headers |= signer.sign(
        method="POST", authority="10.0.0.7:8443", path="/person", headers=headers, created=NOW
    )
    verifier = RequestVerifier(PROVIDER_REQUEST)
    verified = verify_request(headers, authority="10.0.0.7:8443", path="/person", verifier=verifier)
    assert verified.key_id == EXCHANGE_KEY_ID
    assert verified.covered == PROVIDER_REQUEST.components


def test_a_response_round_trips_and_verifies_offline_without_a_clock() -> None:
    headers, request = signed_response()
    verified = ResponseVerifier().verify(
        status=200, headers=headers, body=ANSWER, request_headers=request, resolve_key=resolve
    )
    assert verified.key_id == EXCHANGE_KEY_ID
    assert Component("content-digest", req=True) in verified.covered


def test_a_response_verifier_also_checks_the_request_body_when_given() -> None:
    headers, request = signed_response()
    verifier = ResponseVerifier()
    verifier.verify(
        status=200, headers=headers, body=ANSWER, request_headers=request,
        resolve_key=resolve, request_body=BODY,
    )  # fmt: skip
    with pytest.raises(SignatureError) as error:
        verifier.verify(
            status=200, headers=headers, body=ANSWER, request_headers=request,
            resolve_key=resolve, request_body=b'{"national_code":"0000000000"}',
        )  # fmt: skip
    assert refusal(error) == "digest-mismatch"


def test_the_authority_is_compared_lower_cased() -> None:
    headers = consumer_headers()
    headers |= RequestSigner(CONSUMER_KEY, CONSUMER_KEY_ID).sign(
        method="POST", authority="Exchange.Example.IR", path=PATH, headers=headers, created=NOW
    )
    verify_request(headers, authority="exchange.example.ir")


def test_components_are_accepted_in_any_order_and_extra_ones_are_verified() -> None:
    shuffled = Profile(
        "shuffled",
        (*reversed(CONSUMER_REQUEST.components), Component("content-type")),
        CONSUMER_REQUEST.key_id,
    )
    headers = consumer_headers()
    headers |= RequestSigner(CONSUMER_KEY, CONSUMER_KEY_ID, shuffled).sign(
        method="POST", authority=AUTHORITY, path=PATH, headers=headers, created=NOW
    )
    assert verify_request(headers).covered[-1] == Component("content-type")
    with pytest.raises(SignatureError) as error:
        verify_request(headers | {"content-type": "text/plain"})
    assert refusal(error) == "bad-signature"


def test_header_values_are_trimmed_before_signing_and_verifying() -> None:
    headers = signed_request()
    verify_request(headers | {"x-purpose": "  benefit-eligibility\t"})


def test_a_signature_input_with_uncanonical_spacing_still_verifies() -> None:
    headers = signed_request()
    spaced = headers["signature-input"].replace("(", "(  ").replace(")", " )")
    verify_request(headers | {"signature-input": spaced})


def test_other_signature_labels_beside_sig_are_ignored() -> None:
    headers = signed_request()
    other = ', proxy=("@method");created=1;keyid="x"'
    headers |= {
        "signature-input": headers["signature-input"] + other,
        "signature": headers["signature"] + ", proxy=:" + "A" * 86 + "==:",
    }
    verify_request(headers)


# -- tampering -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"method": "PUT"}, "bad-signature"),
        ({"authority": "evil.example"}, "bad-signature"),
        ({"path": "/exchange/v1/services/civil-registry.address.v1"}, "bad-signature"),
        ({"body": b'{"national_code":"0000000000"}'}, "digest-mismatch"),
    ],
    ids=["method", "authority", "path", "body"],
)
def test_a_tampered_request_is_refused(change: dict[str, object], reason: str) -> None:
    with pytest.raises(SignatureError) as error:
        verify_request(signed_request(), **change)  # type: ignore[arg-type]
    assert refusal(error) == reason


def test_a_request_replayed_with_another_id_is_refused() -> None:
    headers = signed_request() | {"x-request-id": "5f0e4c9a-0000-4000-8000-000000000000"}
    with pytest.raises(SignatureError) as error:
        verify_request(headers)
    assert refusal(error) == "bad-signature"


def test_a_request_with_another_purpose_is_refused() -> None:
    with pytest.raises(SignatureError) as error:
        verify_request(signed_request() | {"x-purpose": "law-enforcement"})
    assert refusal(error) == "bad-signature"


def test_a_changed_body_with_a_recomputed_digest_is_refused() -> None:
    other = b'{"national_code":"0000000000"}'
    headers = signed_request() | {"content-digest": content_digest(other)}
    with pytest.raises(SignatureError) as error:
        verify_request(headers, body=other)
    assert refusal(error) == "bad-signature"


def test_a_signature_by_another_key_is_refused() -> None:
    headers = consumer_headers()
    headers |= RequestSigner(Ed25519PrivateKey.generate(), CONSUMER_KEY_ID).sign(
        method="POST", authority=AUTHORITY, path=PATH, headers=headers, created=NOW
    )
    with pytest.raises(SignatureError) as error:
        verify_request(headers)
    assert refusal(error) == "bad-signature"


@pytest.mark.parametrize(
    ("status", "headers", "request_headers", "body"),
    [
        (404, {}, {}, ANSWER),
        (200, {"x-exchange-id": "01JDQ3W4Z8K5T3V1B9N7M2C6XF"}, {}, ANSWER),
        (200, {}, {"content-digest": content_digest(b"{}")}, ANSWER),
        (200, {}, {}, b'{"alive":false}'),
    ],
    ids=["status", "exchange-id", "answered-another-request", "body"],
)
def test_a_tampered_response_is_refused(
    status: int, headers: dict[str, str], request_headers: dict[str, str], body: bytes
) -> None:
    signed, request = signed_response()
    with pytest.raises(SignatureError) as error:
        ResponseVerifier().verify(
            status=status,
            headers=signed | headers,
            body=body,
            request_headers=request | request_headers,
            resolve_key=resolve,
        )
    assert refusal(error) == ("digest-mismatch" if body != ANSWER else "bad-signature")


# -- time ----------------------------------------------------------------------------------


def test_a_signature_older_than_five_minutes_is_refused() -> None:
    verify_request(signed_request(created=NOW - 300))
    with pytest.raises(SignatureError) as error:
        verify_request(signed_request(created=NOW - 301))
    assert refusal(error) == "expired"
    assert "301 s ago" in str(error.value)


def test_a_signature_from_the_future_is_refused_beyond_the_tolerance() -> None:
    verify_request(signed_request(created=NOW + 30))
    with pytest.raises(SignatureError) as error:
        verify_request(signed_request(created=NOW + 31))
    assert refusal(error) == "future"


def test_expires_is_honoured() -> None:
    verify_request(signed_request(expires=NOW + 10), now=NOW + 10)
    with pytest.raises(SignatureError) as error:
        verify_request(signed_request(expires=NOW + 10), now=NOW + 11)
    assert refusal(error) == "expired"


def test_a_stored_response_verifies_long_after_unless_a_clock_is_given() -> None:
    headers, request = signed_response()
    later = NOW + 365 * 86400
    kwargs = {"status": 200, "headers": headers, "body": ANSWER, "request_headers": request}
    ResponseVerifier().verify(**kwargs, resolve_key=resolve, now=later)  # type: ignore[arg-type]
    with pytest.raises(SignatureError) as error:
        ResponseVerifier(max_age=3600).verify(**kwargs, resolve_key=resolve, now=later)  # type: ignore[arg-type]
    assert refusal(error) == "expired"


# -- keys, coverage, structure ------------------------------------------------------------


def test_an_unknown_key_id_is_refused() -> None:
    with pytest.raises(SignatureError) as error:
        RequestVerifier().verify(
            method="POST", authority=AUTHORITY, path=PATH, headers=signed_request(),
            body=BODY, now=NOW, resolve_key=lambda keyid: None,
        )  # fmt: skip
    assert refusal(error) == "unknown-key"


def test_a_key_id_not_of_the_agency_system_key_form_is_refused() -> None:
    headers = signed_request()
    bad = headers["signature-input"].replace(CONSUMER_KEY_ID, "benefits-key")
    with pytest.raises(SignatureError) as error:
        verify_request(headers | {"signature-input": bad})
    assert refusal(error) == "malformed"


def test_a_signature_missing_a_required_component_is_refused() -> None:
    partial = Profile("partial", CONSUMER_REQUEST.components[:-1], CONSUMER_REQUEST.key_id)
    headers = consumer_headers()
    headers |= RequestSigner(CONSUMER_KEY, CONSUMER_KEY_ID, partial).sign(
        method="POST", authority=AUTHORITY, path=PATH, headers=headers, created=NOW
    )
    with pytest.raises(SignatureError) as error:
        verify_request(headers)
    assert refusal(error) == "components"
    assert '"x-purpose"' in str(error.value)


@pytest.mark.parametrize(
    "extra", ['"@query"', '"@target-uri"', '"x-missing"', '"content-digest";req', '"@status"']
)
def test_a_covered_component_that_cannot_be_resolved_is_refused(extra: str) -> None:
    headers = signed_request()
    widened = headers["signature-input"].replace(")", f" {extra})", 1)
    with pytest.raises(SignatureError) as error:
        verify_request(headers | {"signature-input": widened})
    assert refusal(error) == "components"


def test_a_request_without_signature_headers_is_refused_as_missing() -> None:
    with pytest.raises(SignatureError) as error:
        verify_request(consumer_headers())
    assert refusal(error) == "missing"
    headers = signed_request()
    relabelled = {k: v.replace("sig=", "other=", 1) for k, v in headers.items()}
    with pytest.raises(SignatureError) as error:
        verify_request(relabelled)
    assert refusal(error) == "missing"


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ('alg="ed25519"', 'alg="rsa-pss-sha512"', "unsupported"),
        (';alg="ed25519"', ';alg="ed25519";context="x"', "unsupported"),
        ('"x-purpose"', '"x-purpose";sf', "unsupported"),
        ('"x-purpose"', '"x-purpose";key="a"', "unsupported"),
        (';alg="ed25519"', "", "malformed"),
        ("created=", "created=-", "malformed"),
        (";created=", ";created=1;created=", "malformed"),
        ('"x-purpose"', '"X-Purpose"', "malformed"),
        ('"x-purpose"', "x-purpose", "malformed"),
        ('"x-purpose")', '"x-purpose" "x-purpose")', "malformed"),
        ("sig=(", "sig=", "malformed"),
        ('alg="ed25519"', "alg=ed25519", "malformed"),
        ('alg="ed25519"', 'alg="ed25519', "malformed"),
        ("created=", "created=1.5;x=", "malformed"),
        ('"@path" "content', '"@path""content', "malformed"),
    ],
)
def test_a_malformed_or_unsupported_signature_input_is_refused(
    old: str, new: str, reason: str
) -> None:
    headers = signed_request()
    assert old in headers["signature-input"]
    changed = headers["signature-input"].replace(old, new, 1)
    with pytest.raises(SignatureError) as error:
        verify_request(headers | {"signature-input": changed})
    assert refusal(error) == reason


@pytest.mark.parametrize(
    "value",
    ["sig=:abc:", "sig=:" + "A" * 84 + ":", "sig=abc", "sig=:" + "A" * 86 + "==:;x", "sig"],
)
def test_a_malformed_signature_is_refused(value: str) -> None:
    with pytest.raises(SignatureError) as error:
        verify_request(signed_request() | {"signature": value})
    assert refusal(error) == "malformed"


def test_a_sha_512_content_digest_is_accepted_and_checked() -> None:
    digest = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    headers = consumer_headers() | {"content-digest": f"sha-512=:{digest}:"}
    headers |= RequestSigner(CONSUMER_KEY, CONSUMER_KEY_ID).sign(
        method="POST", authority=AUTHORITY, path=PATH, headers=headers, created=NOW
    )
    verify_request(headers)
    with pytest.raises(SignatureError) as error:
        verify_request(headers, body=b"{}")
    assert refusal(error) == "digest-mismatch"


@pytest.mark.parametrize(
    ("digest", "reason"),
    [
        ("md5=:1B2M2Y8AsgTpgAmY7PhCfg==:", "unsupported"),
        (f"md5=:1B2M2Y8AsgTpgAmY7PhCfg==:, {content_digest(BODY)}", None),
        (f"{content_digest(BODY)}, sha-512=:{'A' * 86}==:", "digest-mismatch"),
        ("sha-256=abc", "malformed"),
    ],
)
def test_content_digest_members_are_checked(digest: str, reason: str | None) -> None:
    headers = consumer_headers() | {"content-digest": digest}
    headers |= RequestSigner(CONSUMER_KEY, CONSUMER_KEY_ID).sign(
        method="POST", authority=AUTHORITY, path=PATH, headers=headers, created=NOW
    )
    if reason is None:
        verify_request(headers)
        return
    with pytest.raises(SignatureError) as error:
        verify_request(headers)
    assert refusal(error) == reason


def test_a_covered_value_with_a_line_break_is_refused() -> None:
    headers = signed_request()
    with pytest.raises(SignatureError) as error:
        verify_request(headers | {"x-purpose": 'x\n"@method": GET'})
    assert refusal(error) == "malformed"


def test_signing_without_a_covered_header_is_refused() -> None:
    headers = consumer_headers()
    del headers["x-purpose"]
    with pytest.raises(SignatureError) as error:
        RequestSigner(CONSUMER_KEY, CONSUMER_KEY_ID).sign(
            method="POST", authority=AUTHORITY, path=PATH, headers=headers, created=NOW
        )
    assert refusal(error) == "components"


def test_a_signer_refuses_a_key_id_outside_its_profile() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        RequestSigner(CONSUMER_KEY, "benefits-key")
    with pytest.raises(ValueError, match="does not fit"):
        ResponseSigner(EXCHANGE_KEY, 'with "quotes"')


def test_key_ids_are_formatted_and_split() -> None:
    assert format_key_id("social-security/benefits", "2026-11") == CONSUMER_KEY_ID
    assert split_key_id(CONSUMER_KEY_ID) == ("social-security/benefits", "2026-11")
    assert split_key_id("no-slashes") is None
    with pytest.raises(ValueError, match="keyid"):
        format_key_id("Social/benefits", "k")


def test_a_signature_error_has_a_stable_reason_and_pickles() -> None:
    error = SignatureError(Reason.EXPIRED, "The signature was created 400 s ago.")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert copy.reason == "expired"
    assert str(copy) == "The signature was created 400 s ago."
    assert {reason.value for reason in Reason} == {
        "missing", "malformed", "unsupported", "components", "expired", "future",
        "unknown-key", "bad-signature", "digest-mismatch", "stale",
    }  # fmt: skip


# -- the parser, property-tested ------------------------------------------------------------

_VERIFIER = RequestVerifier()
_SIGNED = signed_request()


@given(st.text(max_size=300))
def test_arbitrary_text_in_signature_input_raises_only_signature_error(text: str) -> None:
    with contextlib.suppress(SignatureError):
        verify_request(_SIGNED | {"signature-input": text}, verifier=_VERIFIER)


@given(st.text(max_size=300))
def test_arbitrary_text_in_signature_raises_only_signature_error(text: str) -> None:
    with contextlib.suppress(SignatureError):
        verify_request(_SIGNED | {"signature": text}, verifier=_VERIFIER)


_PIECES = st.sampled_from(
    ['"@method"', '"x-purpose";req', " ", "(", ")", ";", "=", '"', "sig", "created=1",
     'keyid="a"', ":", ",", "?1", "\\", "-", "9" * 16, "\t", "é"]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=30).map("".join))
def test_near_miss_signature_inputs_raise_only_signature_error(text: str) -> None:
    for value in (text, f"sig=({text}", f'sig=("@method"{text}'):
        with contextlib.suppress(SignatureError):
            verify_request(_SIGNED | {"signature-input": value}, verifier=_VERIFIER)


_NAMES = st.sampled_from(["@method", "@path", "content-digest", "x-purpose", "x-request-id"])
_PARAM = st.one_of(
    st.tuples(st.sampled_from(["created", "expires"]), st.integers(0, 10**15 - 1)),
    st.tuples(
        st.sampled_from(["keyid", "alg", "nonce", "tag"]),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
    ),
)


@given(
    st.lists(st.tuples(_NAMES, st.booleans()), max_size=6, unique=True),
    st.lists(_PARAM, max_size=5),
)
def test_the_fast_path_and_the_general_parser_agree(
    items: list[tuple[str, bool]], params: list[tuple[str, int | str]]
) -> None:
    covered = " ".join(f'"{name}"' + (";req" if req else "") for name, req in items)
    serialized = "".join(sigs._serialize_param(key, value) for key, value in params)
    text = f"sig=({covered}){serialized}"
    general = sigs._dictionary(text, "Signature-Input", sigs._inner_list)
    assert sigs._parse_inputs(text) == general
    assert general["sig"].serialized == text[4:]


# -- RFC 9421 test vectors -----------------------------------------------------------------

RFC_PUBLIC_KEY = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
RFC_PRIVATE_KEY = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RFC_B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
RFC_B26_BASE = """\
"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" "content-type" \
"content-length");created=1618884473;keyid="test-key-ed25519\""""
RFC_B26_SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)


def test_the_signature_base_matches_rfc_9421_appendix_b_2_6() -> None:
    headers = {
        "date": "Tue, 20 Apr 2021 02:07:55 GMT",
        "content-type": "application/json",
        "content-digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYll"
        "u7BNNyealdVLvRwEmTHWXvJwew==:",
        "content-length": "18",
    }
    base = signature_base(
        RFC_B26_INPUT, headers=headers, method="POST", authority="example.com",
        path="/foo", label="sig-b26",
    )  # fmt: skip
    assert base == RFC_B26_BASE
    public = load_pem_public_key(RFC_PUBLIC_KEY)
    assert isinstance(public, Ed25519PublicKey)
    public.verify(base64.b64decode(RFC_B26_SIGNATURE), base.encode())  # raises if not
    private = load_pem_private_key(RFC_PRIVATE_KEY, password=None)
    assert isinstance(private, Ed25519PrivateKey)
    assert base64.b64encode(private.sign(base.encode())).decode() == RFC_B26_SIGNATURE
    sigs._check_digest(headers["content-digest"], b'{"hello": "world"}', "request")


# -- interoperability with the http-message-signatures library -----------------------------


@dataclass
class LibraryRequest:
    method: str
    url: str
    headers: dict[str, str]


@dataclass
class LibraryResponse:
    status_code: int
    headers: dict[str, str]
    request: LibraryRequest = field(repr=False)


def library_verifier(keyid: str, key: Ed25519PublicKey) -> HTTPMessageVerifier:
    resolver = MappingKeyResolver(public_keys={keyid: key}, private_keys={})
    return HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=resolver)


def library_signer(keyid: str, key: Ed25519PrivateKey) -> HTTPMessageSigner:
    resolver = MappingKeyResolver(public_keys={}, private_keys={keyid: key})
    return HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=resolver)


def lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def test_the_library_verifies_our_request_signature() -> None:
    now = time.time()
    headers = signed_request(created=now)
    message = LibraryRequest("POST", f"https://{AUTHORITY}{PATH}", headers)
    results = library_verifier(CONSUMER_KEY_ID, CONSUMER_KEY.public_key()).verify(
        message, require_components=[c.name for c in CONSUMER_REQUEST.components], body=BODY
    )
    assert results[0].parameters["keyid"] == CONSUMER_KEY_ID
    assert results[0].label == "sig"


def test_we_verify_the_librarys_request_signature() -> None:
    now = time.time()
    headers = consumer_headers()
    del headers["content-digest"]  # the library computes it from the body
    message = LibraryRequest("POST", f"https://{AUTHORITY}{PATH}", headers)
    library_signer(CONSUMER_KEY_ID, CONSUMER_KEY).sign(
        message,
        body=BODY,
        key_id=CONSUMER_KEY_ID,
        created=datetime.datetime.fromtimestamp(now, datetime.UTC),
        label="sig",
        covered_component_ids=[c.name for c in CONSUMER_REQUEST.components],
    )
    verified = verify_request(lower(message.headers), now=now)
    assert verified.key_id == CONSUMER_KEY_ID


def test_the_library_verifies_our_response_signature_with_req() -> None:
    headers, request = signed_response()
    message = LibraryResponse(
        200, headers, LibraryRequest("POST", f"https://{AUTHORITY}{PATH}", request)
    )
    verifier = library_verifier(EXCHANGE_KEY_ID, EXCHANGE_KEY.public_key())
    verifier.max_clock_skew = datetime.timedelta(days=36500)  # NOW is a fixed instant
    results = verifier.verify(
        message,
        max_age=None,
        require_components=[c.identifier for c in RESPONSE.components],
        body=ANSWER,
    )
    assert '"content-digest";req' in results[0].covered_components


def test_we_verify_the_librarys_response_signature_with_req() -> None:
    request = consumer_headers()
    headers = response_headers()
    del headers["content-digest"]  # the library computes it from the body
    message = LibraryResponse(
        200, headers, LibraryRequest("POST", f"https://{AUTHORITY}{PATH}", request)
    )
    library_signer(EXCHANGE_KEY_ID, EXCHANGE_KEY).sign(
        message,
        body=ANSWER,
        key_id=EXCHANGE_KEY_ID,
        created=datetime.datetime.fromtimestamp(NOW, datetime.UTC),
        label="sig",
        covered_component_ids=[c.identifier for c in RESPONSE.components],
    )
    assert ";req" in message.headers["Signature-Input"]
    verified = ResponseVerifier().verify(
        status=200, headers=lower(message.headers), body=ANSWER, request_headers=request,
        resolve_key=resolve, request_body=BODY,
    )  # fmt: skip
    assert verified.covered == RESPONSE.components


# -- docs/http-signatures.md: its examples run and agree with the implementation ------------

DOC = Path(__file__).parents[3] / "docs" / "http-signatures.md"


def doc_blocks(fence: str) -> list[str]:
    return re.findall(rf"```{fence}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def run_doc_example(index: int) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(doc_blocks("python")[index], f"{DOC}:python[{index}]", "exec"), namespace)  # noqa: S102
    return namespace


def test_the_documented_signing_example_is_verified_by_the_exchange() -> None:
    example = run_doc_example(0)
    signed: dict[str, str] = example["signed"]
    public = example["key"].public_key()
    verified = RequestVerifier().verify(
        method="POST", authority="exchange.example.ir",
        path="/exchange/v1/services/civil-registry.person.v1", headers=signed,
        body=b'{"national_code":"3066557359"}', now=time.time(), resolve_key=lambda _: public,
    )  # fmt: skip
    assert verified.key_id == "social-security/benefits/2026-11"


def test_the_documented_offline_verification_accepts_our_responses_only() -> None:
    verify_response = run_doc_example(1)["verify_response"]
    headers, request = signed_response()
    keys = {EXCHANGE_KEY_ID: EXCHANGE_KEY.public_key()}
    assert verify_response(keys, 200, headers, ANSWER, request, BODY) == EXCHANGE_KEY_ID
    with pytest.raises(InvalidSignature):
        verify_response(keys, 404, headers, ANSWER, request, BODY)
    with pytest.raises(ValueError, match="Content-Digest"):
        verify_response(keys, 200, headers, ANSWER, request, b"{}")


def test_the_documented_signature_base_is_the_one_we_build() -> None:
    message = next(block for block in doc_blocks("") if block.startswith("POST "))
    head, body = message.split("\n\n", 1)
    lines = head.splitlines()[1:]
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
    assert content_digest(body.strip().encode()) == headers["content-digest"]
    documented = next(block for block in doc_blocks("") if block.startswith('"@method"'))
    base = signature_base(
        headers["signature-input"], headers=headers, method="POST", authority=headers["host"],
        path="/exchange/v1/services/civil-registry.person.v1",
    )  # fmt: skip
    assert base == documented.rstrip("\n")
