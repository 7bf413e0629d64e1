"""Checking provider endpoint URLs when they are registered, so the exchange cannot be turned
against its own network (SSRF).

A registered endpoint is fetched by the exchange with its own credentials and network position;
an agency admin who could register ``http://169.254.169.254/`` or ``http://127.0.0.1:6379/``
would use the exchange to reach the cloud metadata service or internal servers.  Two checks,
both with the address classes of `panjereh.registry.addresses`:

- `validate_endpoint_url`, on the URL alone (a field rule of the registry document): its form,
  and addresses and names that are never called — loopback (unless development allows it),
  link-local/metadata, unspecified, multicast, reserved, numeric disguises like ``0x7f.1``;
- `check_endpoint_policy`, against the provider agency's `NetworkPolicy`: a private address only
  inside the blocks an operator recorded on the agency, a private-use name (``*.internal``,
  ``*.local``, a name without a dot) only for an agency with recorded blocks, ``http://`` only
  where the agency's record allows it.  It runs where the agency is known: when a service is
  created or its endpoint changes (storage/document_repo.py).

A *name* is not resolved here: what it resolves to when the exchange calls can differ from
anything seen at registration (DNS rebinding).  The exchange's transport checks every address
a name resolves to, on every new connection, and connects to the address it checked
(`panjereh.exchange.egress`, `panjereh.exchange.http1`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from panjereh.domain.errors import InvalidValue
from panjereh.registry.addresses import (
    NEVER_CALLED,
    AddressClass,
    NetworkPolicy,
    classify,
    literal_address,
    unwrapped,
)

_LOOPBACK_NAMES = ("localhost", "localhost.localdomain")
_METADATA_NAMES = ("metadata", "metadata.google.internal", "instance-data")
_PRIVATE_USE_SUFFIXES = (".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp")
_PRIVATE_MESSAGE = (
    "The endpoint points at a local, private or metadata address, which is not allowed.",
    "نشانی به یک آدرس محلی، خصوصی یا metadata اشاره می‌کند که مجاز نیست.",
)


def _refuse(code: str, en: str, fa: str) -> InvalidValue:
    return InvalidValue(f"endpoint-url.{code}", message_en=en, message_fa=fa, field="endpoint_url")


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
    if _never_called(parts.hostname, allow_private=allow_private):
        raise _refuse("private", *_PRIVATE_MESSAGE)
    return url


def check_endpoint_policy(url: str, policy: NetworkPolicy, *, allow_private: bool) -> None:
    """Refuse (`InvalidValue`) an endpoint that passed `validate_endpoint_url` but does not
    fit its agency's network policy.  ``allow_private`` (development) lets everything through
    that the URL check let through."""
    if allow_private:
        return
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme == "http" and not policy.allow_http:
        raise _refuse(
            "http",
            "The endpoint must be https://: plain http is allowed only where an operator "
            "recorded it on the provider's agency.",
            "نشانی باید https باشد؛ http فقط برای دستگاهی مجاز است که اپراتور آن را ثبت کرده باشد.",
        )
    address = literal_address(host)
    if address is not None:
        if classify(address) is AddressClass.PRIVATE and not policy.covers(unwrapped(address)):
            raise _refuse(
                "private",
                "The endpoint's private address is outside the address blocks recorded on the "
                "provider's agency (an operator records them).",
                "نشانی خصوصی خارج از بلوک‌های نشانی ثبت‌شده برای دستگاه ارائه‌دهنده است "
                "(اپراتور آن‌ها را ثبت می‌کند).",
            )
    elif _private_use_name(host) and not policy.private_blocks:
        raise _refuse("private", *_PRIVATE_MESSAGE)


def _never_called(host: str, *, allow_private: bool) -> bool:
    """An address or name the exchange never calls (loopback ones unless ``allow_private``)."""
    host = host.rstrip(".").lower()
    if host in _METADATA_NAMES or host.endswith(".metadata.google.internal"):
        return True
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return not allow_private
    address = literal_address(host)
    if address is None:
        return _is_numeric_ipv4_variant(host)
    kind = classify(address)
    return kind in NEVER_CALLED or (kind is AddressClass.LOOPBACK and not allow_private)


def _private_use_name(host: str) -> bool:
    """A name meant for a private network: a private-use top-level name, or no dot at all."""
    return "." not in host or host.endswith(_PRIVATE_USE_SUFFIXES)


def _is_numeric_ipv4_variant(host: str) -> bool:
    """``2130706433``, ``0x7f.1`` or ``017700000001`` reach 127.0.0.1 in many resolvers."""
    labels = host.split(".")
    return all(label and (label.isdigit() or label.startswith("0x")) for label in labels)
