"""Field projection: only the members a grant lists, in the answer's own shape."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panjereh.exchange.projection import parse_pointer, project

PERSON = {
    "national_code": "3066557359",
    "first_name": "امیرعباس",
    "address": {"province": "کردستان", "city": "سنندج", "postal_code": "6613711111"},
    "degrees": [{"title": "کارشناسی"}],
    "a/b": 1,
    "m~n": 2,
}


def test_it_keeps_only_the_listed_members() -> None:
    assert project(PERSON, ["/first_name", "/address/province"]) == {
        "first_name": "امیرعباس",
        "address": {"province": "کردستان"},
    }


def test_it_skips_a_pointer_that_names_nothing() -> None:
    assert project(PERSON, ["/first_name", "/no/such"]) == {"first_name": "امیرعباس"}


def test_it_never_goes_through_an_array() -> None:
    assert project(PERSON, ["/degrees/0/title"]) == {}


def test_a_whole_array_can_be_granted() -> None:
    assert project(PERSON, ["/degrees"]) == {"degrees": [{"title": "کارشناسی"}]}


def test_the_empty_pointer_grants_the_whole_answer() -> None:
    assert project(PERSON, [""]) == PERSON


def test_it_unescapes_pointer_tokens() -> None:
    assert project(PERSON, ["/a~1b", "/m~0n"]) == {"a/b": 1, "m~n": 2}


def test_a_parent_and_its_child_together_give_the_parent() -> None:
    both = project(PERSON, ["/address/city", "/address"])
    assert both == {"address": PERSON["address"]}


def test_it_refuses_a_pointer_without_a_leading_slash() -> None:
    with pytest.raises(ValueError, match="starts with"):
        parse_pointer("first_name")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(
    document=st.dictionaries(st.text(max_size=3), _json, max_size=4),
    keys=st.lists(st.text(max_size=3), max_size=3),
)
def test_a_projection_never_contains_a_member_that_was_not_granted(
    document: dict[str, Any], keys: list[str]
) -> None:
    pointers = ["/" + key.replace("~", "~0").replace("/", "~1") for key in keys]
    projected = project(document, pointers)
    assert set(projected) <= set(keys)
    for key in projected:
        assert projected[key] == document[key]
