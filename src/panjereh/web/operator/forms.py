"""What the area's forms send: read with limits, checked with constant-time comparisons."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request

MAX_FIELDS = 16
MAX_BODY = 16 * 1024  # the largest form (a reason of 2,000 characters) is far smaller
REASON_MIN, REASON_MAX = 3, 2000
LOCAL_PREFIXES = ("/operator/", "/en/operator/")


class FormTooLarge(Exception):
    """The request body is larger than any form of the area."""


async def read_form(request: Request) -> FormData:
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        raise FormTooLarge
    return await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_BODY)


def field(form: FormData, name: str, *, limit: int = 200) -> str:
    """A text field, or "" when missing, a file, or longer than ``limit``."""
    value = form.get(name)
    if not isinstance(value, str) or len(value) > limit:
        return ""
    return value


def same_token(given: str, expected: str) -> bool:
    """Compare a submitted token with the expected one in constant time."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def reason_of(form: FormData) -> str | None:
    """The reason every change needs (kept in the registry events), or None when unusable."""
    reason = " ".join(field(form, "reason", limit=REASON_MAX * 2).split())
    return reason if REASON_MIN <= len(reason) <= REASON_MAX else None


def safe_local_path(raw: str | None) -> str | None:
    """``raw`` if it is a path of this area on this site, else None (no open redirect).

    Accepted: ``/operator/...`` and ``/en/operator/...`` with an optional query; refused:
    anything with a scheme or host (``https://evil.example``, ``//evil.example``), a
    backslash (browsers read ``/\\evil`` as ``//evil``), dot segments, control characters or
    a fragment.
    """
    if not raw or len(raw) > 500 or not raw.isprintable() or "\\" in raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or parts.fragment:
        return None
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    if not path.startswith(LOCAL_PREFIXES) or "//" in parts.path:
        return None
    # Dot segments ("/operator/../api"), also percent-encoded, would leave the area.
    segments = unquote(parts.path).split("/")
    if "." in segments or ".." in segments:
        return None
    return raw


def with_param(path: str, name: str, value: str) -> str:
    """``path`` with one query parameter set (others kept)."""
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != name] + [(name, value)]
    return f"{parts.path}?{urlencode(query)}"
