"""Errors repeat at most a short, marked excerpt of what they were sent."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from panjereh.domain.echo import ECHO_LIMIT, ITEMS_LIMIT, TEXT_LIMIT, bounded, clip, quoted


def test_a_short_value_is_repeated_as_is() -> None:
    assert clip("civil-registry.person.v1") == "civil-registry.person.v1"
    assert quoted("civil-registry.person.v1") == "'civil-registry.person.v1'"


def test_a_long_value_is_cut_to_the_limit_and_marked() -> None:
    shown = clip("a" * 60_000)
    assert len(shown) == ECHO_LIMIT
    assert shown == "a" * (ECHO_LIMIT - 1) + "…"


def test_a_quoted_value_escapes_line_breaks_and_stays_bounded() -> None:
    assert quoted("x\nFAKE LOG LINE") == "'x\\nFAKE LOG LINE'"
    assert len(quoted("\x00" * 60_000)) <= ECHO_LIMIT + 2


@given(st.text(max_size=400), st.integers(min_value=1, max_value=300))
def test_clip_never_exceeds_its_limit_and_keeps_short_values(text: str, limit: int) -> None:
    shown = clip(text, limit)
    assert len(shown) <= limit
    assert (shown == text) is (len(text) <= limit)


def test_an_error_document_is_bounded_whatever_its_values() -> None:
    document = {
        "type": "/problems/invalid-request",
        "detail": "d" * 60_000,
        "errors": [{"field": "f" * 60_000, "message": "m" * 60_000}] * 10_000,
        "k" * 60_000: "v",
        "nested": [[[[["deep" * 10_000]]]]],
    }
    shown = bounded(document)
    assert isinstance(shown, dict)
    assert shown["type"] == "/problems/invalid-request"
    assert len(shown["detail"]) == TEXT_LIMIT
    assert len(shown["errors"]) == ITEMS_LIMIT
    assert len(json.dumps(shown, ensure_ascii=False)) < 20 * TEXT_LIMIT * ITEMS_LIMIT
    assert all(len(key) <= ECHO_LIMIT for key in shown)
