"""Provider endpoints cannot point the exchange at its own network (SSRF)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panjereh.domain.errors import InvalidValue
from panjereh.registry.endpoints import validate_endpoint_url


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
        ("http://10.1.2.3/", "endpoint-url.private"),
        ("http://192.168.1.1/", "endpoint-url.private"),
        ("http://172.16.0.1/", "endpoint-url.private"),
        ("http://[::1]/", "endpoint-url.private"),
        ("http://[::ffff:127.0.0.1]/", "endpoint-url.private"),
        ("http://0.0.0.0/", "endpoint-url.private"),
        ("http://2130706433/", "endpoint-url.private"),
        ("http://0x7f.1/", "endpoint-url.private"),
        ("http://printer.local/", "endpoint-url.private"),
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
    url = "http://127.0.0.1:8000/simulator/civil-registry/person"
    assert validate_endpoint_url(url, allow_private=True) == url
    with pytest.raises(InvalidValue):
        validate_endpoint_url("ftp://127.0.0.1/", allow_private=True)


@given(st.text(max_size=300))
def test_it_never_fails_other_than_with_invalid_value(url: str) -> None:
    with contextlib.suppress(InvalidValue):
        validate_endpoint_url(url, allow_private=False)
