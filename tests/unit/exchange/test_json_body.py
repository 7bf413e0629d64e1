"""A caller's JSON body has one meaning: no object in it may repeat a key, at any depth.

Property tests write random JSON texts themselves (random whitespace, keys and strings written
raw or as \\u escapes), with and without a repeated key somewhere, and check the verdict.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from random import Random
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panjereh.exchange.json_body import (
    MAX_DEPTH,
    JsonBodyError,
    Refusal,
    parse_object,
    refuse_repeated_keys,
)

Json = Any
_keys = st.text(max_size=6)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=15,
)
_SPACES = ("", "", " ", "\n", "\t ", "\r\n  ")


def _string(rnd: Random, text: str) -> str:
    """``text`` as a JSON string, each character written raw or as a \\u escape."""
    out = []
    for char in text:
        if rnd.random() < 0.5 and ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(json.dumps(char, ensure_ascii=False)[1:-1])
    return '"' + "".join(out) + '"'


def _write(rnd: Random, value: Json, repeat: list[bool]) -> str:
    """``value`` as JSON text; when ``repeat[0]`` is set, the first object with a key gets
    one of its keys a second time (then ``repeat[0]`` is cleared)."""
    space = rnd.choice(_SPACES)
    if isinstance(value, dict):
        members = [(key, _write(rnd, item, repeat)) for key, item in value.items()]
        if members and repeat[0]:
            repeat[0] = False
            members.insert(rnd.randint(0, len(members)), (rnd.choice(list(value)), "1"))
        inner = f",{space}".join(f"{_string(rnd, k)}{space}:{space}{v}" for k, v in members)
        return f"{{{space}{inner}{space}}}"
    if isinstance(value, list):
        return f"[{space}" + f",{space}".join(_write(rnd, v, repeat) for v in value) + "]"
    if isinstance(value, str):
        return _string(rnd, value)
    return orjson.dumps(value).decode()


def _has_object_with_keys(value: Json) -> bool:
    if isinstance(value, dict):
        return bool(value) or any(_has_object_with_keys(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_object_with_keys(v) for v in value)
    return False


@settings(max_examples=75, deadline=None)
@given(document=st.dictionaries(_keys, _json, max_size=5), rnd=st.randoms())
def test_a_body_whose_objects_repeat_no_key_is_parsed_as_orjson_parses_it(
    document: dict[str, Json], rnd: Random
) -> None:
    text = _write(rnd, document, [False]).encode()
    assert parse_object(text) == orjson.loads(text) == document


@settings(max_examples=75, deadline=None)
@given(document=_json.filter(_has_object_with_keys), rnd=st.randoms())
def test_a_key_repeated_in_any_object_at_any_depth_is_refused(document: Json, rnd: Random) -> None:
    repeat = [True]
    text = _write(rnd, document, repeat).encode()
    assert not repeat[0], "a key was repeated"
    check = parse_object if isinstance(document, dict) else refuse_repeated_keys
    with pytest.raises(JsonBodyError) as refused:
        check(text)
    assert refused.value.refusal is Refusal.DUPLICATE_KEY
    assert refused.value.key is not None


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"national_code": "0013542419", "national_code": "3066557359"}', "national_code"),
        (b'{"a": 1, "\\u0061": 2}', "a"),  # the same key once decoded
        (b'{"list": [1, {"x": {"deep": 1, "deep": 2}}]}', "deep"),  # inside an array
        (b'[{"ok": 1, "fine": 2}, {"k": 1, "k": 1}]', "k"),
        (b'{"\\u0627": 1, "\xd8\xa7": 2}', "\u0627"),  # Persian alef, escaped and raw
    ],
    ids=["top-level", "escaped", "in-an-array", "second-object", "persian"],
)
def test_a_repeated_key_is_refused_and_named(body: bytes, key: str) -> None:
    with pytest.raises(JsonBodyError) as refused:
        refuse_repeated_keys(body)
    assert refused.value.refusal is Refusal.DUPLICATE_KEY
    assert refused.value.key == key
    assert f'the key "{key}"' in refused.value.message


def test_a_flat_object_with_a_colon_in_a_value_is_still_checked() -> None:
    with pytest.raises(JsonBodyError):
        parse_object(b'{"at": "12:30", "at": "13:30"}')
    assert parse_object(b'{"at": "12:30", "to": "13:30"}') == {"at": "12:30", "to": "13:30"}


def test_equal_keys_in_different_objects_are_not_repeats() -> None:
    body = b'{"a": {"a": 1, "b": {"a": 2}}, "b": [{"a": 1}, {"a": 2}]}'
    assert parse_object(body) == orjson.loads(body)


def test_a_long_repeated_key_is_named_in_at_most_100_characters() -> None:
    key = "k" * 60_000
    with pytest.raises(JsonBodyError) as refused:
        parse_object(orjson.dumps({key: 1})[:-1] + f',"{key}":2}}'.encode())
    assert len(refused.value.message) < 200


def _objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _mixed(depth: int) -> bytes:
    return b'{"a":[' * (depth // 2) + b"1" + b"]}" * (depth // 2)


def _an_object_under_arrays(depth: int) -> bytes:
    return b'{"a":1,"b":' + b"[" * (depth - 2) + b'{"c":1}' + b"]" * (depth - 2) + b"}"


@pytest.mark.parametrize("nested", [_objects, _mixed, _an_object_under_arrays])
def test_keys_nested_deeper_than_the_limit_are_refused(nested: Callable[[int], bytes]) -> None:
    assert parse_object(nested(MAX_DEPTH))
    with pytest.raises(JsonBodyError) as refused:
        parse_object(nested(MAX_DEPTH + 2))
    assert refused.value.refusal is Refusal.TOO_DEEP


@pytest.mark.parametrize(
    ("body", "refusal"),
    [(b"not json", Refusal.NOT_JSON), (b"[1, 2]", Refusal.NOT_OBJECT), (b"", Refusal.NOT_JSON)],
)
def test_what_is_not_a_json_object_is_refused_as_before(body: bytes, refusal: Refusal) -> None:
    with pytest.raises(JsonBodyError) as refused:
        parse_object(body)
    assert refused.value.refusal is refusal
