"""Validating provider endpoint URLs, so the exchange cannot be turned against its own network.

A registered endpoint is fetched by the exchange with its own credentials and network position;
an agency admin who could register ``http://169.254.169.254/`` or ``http://127.0.0.1:6379/``
would use the exchange to reach the cloud metadata service or internal servers (SSRF).
Literal addresses and well-known local names are checked here at registration; names that
resolve to such addresses are refused again by the exchange's transport at connect time.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from panjereh.domain.errors import InvalidValue

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "metadata.google.internal", "metadata")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal")


def _refuse(code: str, en: str, fa: str) -> InvalidValue:
    return InvalidValue(f"endpoint-url.{code}", message_en=en, message_fa=fa, field="endpoint_url")


def is_private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, link-local (cloud metadata), multicast, reserved or unspecified."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def validate_endpoint_url(url: str, *, allow_private: bool) -> str:
    """Return ``url`` if it is an acceptable provider endpoint, else raise `InvalidValue`."""
    if not isinstance(url, str) or not url or len(url) > 2000 or not url.isascii():
        raise _refuse(
            "format", "The endpoint must be an ASCII http(s) URL.", "نشانی باید URL http(s) باشد."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse("format", "The endpoint is not a valid URL.", "نشانی معتبر نیست.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse(
            "scheme",
            "The endpoint must be an http:// or https:// URL with a host.",
            "نشانی باید با http یا https و نام میزبان باشد.",
        )
    if parts.username is not None or parts.password is not None:
        raise _refuse(
            "credentials",
            "The endpoint must not carry a user name or password.",
            "نشانی نباید نام کاربری یا گذرواژه داشته باشد.",
        )
    if parts.fragment:
        raise _refuse(
            "format", "The endpoint must not have a #fragment.", "نشانی نباید بخش # داشته باشد."
        )
    if port == 0:
        raise _refuse("format", "The endpoint's port is not valid.", "درگاه نشانی معتبر نیست.")
    if not allow_private and _is_local_host(parts.hostname):
        raise _refuse(
            "private",
            "The endpoint points at a local, private or metadata address, which is not allowed.",
            "نشانی به یک آدرس محلی، خصوصی یا metadata اشاره می‌کند که مجاز نیست.",
        )
    return url


def _is_local_host(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return _is_numeric_ipv4_variant(host)
    return is_private_address(address)


def _is_numeric_ipv4_variant(host: str) -> bool:
    """``2130706433``, ``0x7f.1`` or ``017700000001`` reach 127.0.0.1 in many resolvers."""
    labels = host.split(".")
    return all(label and (label.isdigit() or label.startswith("0x")) for label in labels)
