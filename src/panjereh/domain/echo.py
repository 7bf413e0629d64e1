"""How an error repeats what it was sent: a short, marked excerpt, never the whole value.

A refusal that names what it refused helps the caller ("there is no service 'x'"), but the
value is the caller's to choose: a 60,000-character service id echoed as is turned a short
request into a 120 KB answer (and as long a log line).  So every value an error repeats from a
request (a service id, a purpose, a header, a key id, a field name, an X-Request-Id…) goes
through :func:`clip` or :func:`quoted`, and the error envelopes (the exchange's problem+json,
the management API's) pass their whole document through :func:`bounded`, which bounds every
string and every list whatever a message says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["ECHO_LIMIT", "ITEMS_LIMIT", "TEXT_LIMIT", "bounded", "clip", "quoted"]

ECHO_LIMIT: Final = 100
"""Characters of a request's value that an error repeats."""
TEXT_LIMIT: Final = 500
"""Characters of any one string in an error document (a detail with a few echoes fits)."""
ITEMS_LIMIT: Final = 10
"""Entries of any list, and members of any nested object, in an error document."""
_DEPTH_LIMIT: Final = 4
ELLIPSIS: Final = "…"


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` itself when it has at most ``limit`` characters, else its first ``limit - 1``
    characters and "…" (so the result never exceeds ``limit``)."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def quoted(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` clipped and quoted like ``repr``: control characters and line breaks are
    escaped, so an echo can neither forge a log line nor break a page."""
    shown = repr(clip(text, limit))
    return shown if len(shown) <= limit + 2 else clip(shown, limit + 2)


def bounded(value: object, *, _depth: int = 0) -> object:
    """A JSON-ready ``value`` with every string clipped to :data:`TEXT_LIMIT`, every list and
    object cut to :data:`ITEMS_LIMIT` entries (object keys to :data:`ECHO_LIMIT`), and nothing
    nested deeper than a few levels: the size of an error document is bounded by construction.
    """
    if isinstance(value, str):
        return clip(value, TEXT_LIMIT)
    if _depth >= _DEPTH_LIMIT and isinstance(value, Mapping | list | tuple):
        return ELLIPSIS
    if isinstance(value, Mapping):
        items = list(value.items())
        limit = ITEMS_LIMIT if _depth else len(items)  # the envelope's own fields stay
        return {
            clip(str(key), ECHO_LIMIT): bounded(item, _depth=_depth + 1)
            for key, item in items[:limit]
        }
    if isinstance(value, list | tuple):
        return [bounded(item, _depth=_depth + 1) for item in value[:ITEMS_LIMIT]]
    return value
