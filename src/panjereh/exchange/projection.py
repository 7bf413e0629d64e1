"""Field projection: a consumer sees only the response fields its grant lists.

A grant's projection is a list of JSON Pointers (RFC 6901) into the provider's answer, e.g.
``["/first_name", "/last_name", "/address/province"]``.  The projected answer keeps the same
shape with only those members: ``{"first_name": …, "last_name": …, "address": {"province": …}}``.
A pointer that names nothing in the answer is skipped.  Pointers go through objects only: one
that would pass through an array selects nothing (fail closed), so an index can never widen
what a consumer sees.  Hashes and the exchange's signature cover the projected body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import orjson


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


@lru_cache(maxsize=4096)
def parse_pointer(pointer: str) -> tuple[str, ...]:
    """The reference tokens of a JSON Pointer; ``ValueError`` for a malformed one."""
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON Pointer starts with '/': {pointer!r}")
    return tuple(_unescape(token) for token in pointer[1:].split("/"))


_MISSING = object()


def _resolve(document: Any, tokens: tuple[str, ...]) -> Any:
    node = document
    for token in tokens:
        if not isinstance(node, dict) or token not in node:
            return _MISSING
        node = node[token]
    return node


def project(document: Any, pointers: Sequence[str]) -> Any:
    """``document`` reduced to the members ``pointers`` name (``document`` itself when a
    pointer is the empty string, i.e. the whole answer)."""
    result: dict[str, Any] = {}
    for pointer in pointers:
        tokens = parse_pointer(pointer)
        if not tokens:
            return document
        value = _resolve(document, tokens)
        if value is _MISSING:
            continue
        target = result
        for token in tokens[:-1]:
            child = target.get(token)
            if not isinstance(child, dict):
                child = target[token] = {}
            target = child
        target[tokens[-1]] = value
    return result


@lru_cache(maxsize=1024)
def projection_id(pointers: tuple[str, ...]) -> str:
    """The id of a projection as it is, for the audit record (format panjereh.audit/2):
    ``sha256:`` and the hex SHA-256 of its pointers as a compact JSON array, in the grant's
    order.  A grant has no projection id of its own; this one names exactly the fields the
    consumer was shown, and changes whenever the grant's projection changes.  Cached: a
    grant's pointers are one tuple for the life of a registry snapshot."""
    return "sha256:" + hashlib.sha256(orjson.dumps(list(pointers))).hexdigest()
