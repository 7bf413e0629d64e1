"""JSON bodies from callers: one meaning only, so no object may repeat a key.

``{"national_code": A, "national_code": B}`` is valid JSON syntax (RFC 8259 says names
*should* be unique), and parsers disagree on it: orjson, the standard library, msgspec and
simdjson keep the last value, others keep the first or refuse.  The exchange records and
checks B while a provider that keeps the first answers about A, so the exchange refuses any
body whose objects repeat a key, at any depth, including keys equal only after their escapes
are decoded (``"a"`` and ``"\\u0061"``).

orjson stays the parser: jiter, which can refuse repeated keys, reads numbers otherwise
(integers past 64 bits stay exact, 1e400 becomes infinity where orjson refuses it), and the
rest of the exchange (cache keys, projections) is written for orjson's values.  msgspec and
simdjson keep the last value without a word.  So the check is a second pass by jiter's
``catch_duplicate_keys`` (the pydantic project's parser, in Rust), run only when the text has
two colons or more (a body with fewer cannot hold two keys in one object) and the body is not
a flat object whose colons are all its distinct keys: ~3 µs on a 300-byte nested body,
~0.6 µs on a flat one (bench/hotpath.py, docs/benchmarks.md).  jiter stops at a nesting depth
of :data:`MAX_DEPTH` objects and arrays; a deeper body with keys is refused too (no inquiry
needs it, and its keys could not be checked).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

import jiter
import orjson

from panjereh.domain.echo import clip
from panjereh.domain.errors import PanjerehError

__all__ = ["MAX_DEPTH", "JsonBodyError", "Refusal", "parse_object", "refuse_repeated_keys"]

MAX_DEPTH: Final = 200
"""Objects and arrays nested deeper than this (in a body with keys) are refused: jiter's
recursion limit."""

_DUPLICATE: Final = re.compile(r'Detected duplicate key "(.*)" at line \d+ column \d+', re.DOTALL)


class Refusal(StrEnum):
    NOT_JSON = "not-json"
    NOT_OBJECT = "not-object"
    DUPLICATE_KEY = "duplicate-key"
    TOO_DEEP = "too-deep"


class JsonBodyError(PanjerehError):
    """A body refused: ``refusal`` says why, ``key`` names a repeated key (as jiter shows it:
    escaped like a JSON string, without the quotes; None if it could not be read),
    ``message`` is for people (it names the key, cut to 100 characters)."""

    def __init__(self, refusal: Refusal, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message
        self.key = key


def parse_object(body: bytes) -> dict[str, object]:
    """The JSON object ``body`` holds; `JsonBodyError` if it is not JSON, not an object, or
    an object in it repeats a key."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise JsonBodyError(Refusal.NOT_JSON, "The request body must be JSON.") from None
    if not isinstance(document, dict):
        raise JsonBodyError(Refusal.NOT_OBJECT, "The request body must be a JSON object.")
    if body.count(b"{") == 1 and body.count(b":") == len(document):
        # One object only (no other brace, even in a string), so every key is one of its
        # keys; each key brings a colon, so colons >= keys written >= distinct keys: equal
        # counts mean no key was written twice.  The usual flat inquiry stops here.
        return document
    refuse_repeated_keys(body)
    return document


def refuse_repeated_keys(body: bytes) -> None:
    """`JsonBodyError` if an object in the JSON text ``body`` has a key twice, or the text
    nests deeper than :data:`MAX_DEPTH`, or jiter finds it is not JSON (``NOT_JSON``, e.g.
    a text orjson took and jiter did not: refused rather than left unchecked)."""
    if body.count(b":") < 2:
        return
    try:
        jiter.from_json(body, catch_duplicate_keys=True)
    except ValueError as exc:
        raise _refusal(str(exc)) from None


def _refusal(reason: str) -> JsonBodyError:
    if reason.startswith("Detected duplicate key"):
        found = _DUPLICATE.fullmatch(reason)
        key = found[1] if found else None
        named = f'the key "{clip(key)}"' if key is not None else "a key"
        return JsonBodyError(
            Refusal.DUPLICATE_KEY,
            f"The request body repeats {named} in one object; send each key once.",
            key,
        )
    if reason.startswith("recursion limit exceeded"):
        return JsonBodyError(
            Refusal.TOO_DEEP, f"The request body nests more than {MAX_DEPTH} levels deep."
        )
    # orjson took the text and jiter did not: refuse rather than leave its keys unchecked.
    return JsonBodyError(Refusal.NOT_JSON, "The request body must be JSON.")
