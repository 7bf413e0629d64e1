"""Provider endpoints cannot point the exchange at its own network (SSRF): the URL alone, then
against the provider agency's network policy (what the exchange's transport checks again, for
the addresses names resolve to, is in tests/unit/exchange/test_egress.py)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panjereh.domain.errors import InvalidValue
from panjereh.registry.addresses import NetworkPolicy, parse_blocks
from panjereh.registry.endpoints import check_endpoint_policy, validate_endpoint_url

HTTPS_ONLY = NetworkPolicy()
BLOCK = NetworkPolicy(parse_blocks(["10.20.0.0/16", "fd00:20::/32"]))
BLOCK_AND_HTTP = NetworkPolicy(BLOCK.private_blocks, allow_http=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.civil-registry.example/person",
        "http://10x.example:8080/a?b=c",
        "https://8.8.8.8/inquiry",
        "https://[2001:4860:4860::8888]/x",
    ],
)
def test_it_accepts_public_http_endpoints(url: str) -> None:
    assert validate_endpoint_url(url, allow_private=False) == url


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.1:6379/", "endpoint-url.private"),
        ("http://localhost/x", "endpoint-url.private"),
        ("http://api.localhost/x", "endpoint-url.private"),
        ("http://169.254.169.254/latest/meta-data", "endpoint-url.private"),
        ("http://metadata.google.internal/", "endpoint-url.private"),
        ("http://[::1]/", "endpoint-url.private"),
        ("http://[::ffff:127.0.0.1]/", "endpoint-url.private"),
        ("http://0.0.0.0/", "endpoint-url.private"),
        ("http://2130706433/", "endpoint-url.private"),
        ("http://0x7f.1/", "endpoint-url.private"),
        ("ftp://files.example/", "endpoint-url.scheme"),
        ("file:///etc/passwd", "endpoint-url.scheme"),
        ("https://user:secret@api.example/", "endpoint-url.credentials"),
        ("https://api.example/#frag", "endpoint-url.format"),
        ("https://api.example:99999/", "endpoint-url.format"),
        ("https://اینترنت.example/", "endpoint-url.format"),
        ("", "endpoint-url.format"),
        ("not a url", "endpoint-url.scheme"),
    ],
)
def test_it_refuses_private_and_malformed_endpoints(url: str, code: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_endpoint_url(url, allow_private=False)
    assert caught.value.code == code


def test_the_demo_may_allow_loopback_explicitly() -> None:
    for url in (
        "http://127.0.0.1:8000/simulator/civil-registry/person",
        "http://localhost:8000/x",
        "http://[::1]:8000/x",
    ):
        assert validate_endpoint_url(url, allow_private=True) == url
    with pytest.raises(InvalidValue):
        validate_endpoint_url("ftp://127.0.0.1/", allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:169.254.169.254]/",
        "http://[fe80::1]/",
        "http://metadata.google.internal/",
        "http://0.0.0.0:8000/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://0x7f.1/",
    ],
)
def test_metadata_and_special_addresses_are_refused_even_in_development(url: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_endpoint_url(url, allow_private=True)
    assert caught.value.code == "endpoint-url.private"


@pytest.mark.parametrize(
    "url",
    ["http://10.1.2.3/", "https://192.168.1.1/", "https://[fd00::1]/", "https://svc.internal/"],
)
def test_a_private_address_or_name_is_left_to_the_agencys_policy(url: str) -> None:
    assert validate_endpoint_url(url, allow_private=False) == url


# Against the agency's network policy ------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "policy"),
    [
        ("https://api.civil-registry.example/person", HTTPS_ONLY),
        ("https://8.8.8.8/inquiry", HTTPS_ONLY),
        ("https://10.20.3.4/inquiry", BLOCK),
        ("https://[::ffff:10.20.3.4]/inquiry", BLOCK),
        ("https://[fd00:20::7]/inquiry", BLOCK),
        ("https://provider.civil.internal/inquiry", BLOCK),
        ("https://provider/inquiry", BLOCK),
        ("http://10.20.3.4/inquiry", BLOCK_AND_HTTP),
        ("http://api.civil-registry.example/person", NetworkPolicy(allow_http=True)),
    ],
)
def test_an_endpoint_that_fits_its_agencys_policy_is_accepted(
    url: str, policy: NetworkPolicy
) -> None:
    check_endpoint_policy(
        validate_endpoint_url(url, allow_private=False), policy, allow_private=False
    )


@pytest.mark.parametrize(
    ("url", "policy", "code"),
    [
        ("https://10.1.2.3/", HTTPS_ONLY, "endpoint-url.private"),
        ("https://192.168.1.1/", HTTPS_ONLY, "endpoint-url.private"),
        ("https://172.16.0.1/", HTTPS_ONLY, "endpoint-url.private"),
        ("https://100.64.0.1/", HTTPS_ONLY, "endpoint-url.private"),
        ("https://10.21.0.1/", BLOCK, "endpoint-url.private"),
        ("https://[::ffff:10.21.0.1]/", BLOCK, "endpoint-url.private"),
        ("https://[fd00:21::1]/", BLOCK, "endpoint-url.private"),
        ("https://printer.local/", HTTPS_ONLY, "endpoint-url.private"),
        ("https://provider.civil.internal/", HTTPS_ONLY, "endpoint-url.private"),
        ("https://provider/", HTTPS_ONLY, "endpoint-url.private"),
        ("http://api.civil-registry.example/person", HTTPS_ONLY, "endpoint-url.http"),
        ("http://10.20.3.4/", BLOCK, "endpoint-url.http"),
    ],
)
def test_an_endpoint_outside_its_agencys_policy_is_refused_in_both_languages(
    url: str, policy: NetworkPolicy, code: str
) -> None:
    validate_endpoint_url(url, allow_private=False)
    with pytest.raises(InvalidValue) as caught:
        check_endpoint_policy(url, policy, allow_private=False)
    assert caught.value.code == code
    assert caught.value.field == "endpoint_url"
    assert caught.value.message_en
    assert caught.value.message_fa


def test_development_lets_through_what_the_url_check_let_through() -> None:
    check_endpoint_policy("http://10.1.2.3/", HTTPS_ONLY, allow_private=True)
    check_endpoint_policy("http://provider/", HTTPS_ONLY, allow_private=True)


@given(st.text(max_size=300))
def test_it_never_fails_other_than_with_invalid_value(url: str) -> None:
    with contextlib.suppress(InvalidValue):
        validate_endpoint_url(url, allow_private=False)


@given(st.text(max_size=300))
def test_the_policy_check_never_fails_other_than_with_invalid_value(url: str) -> None:
    with contextlib.suppress(InvalidValue):
        check_endpoint_policy(
            validate_endpoint_url(url, allow_private=False), BLOCK, allow_private=False
        )
