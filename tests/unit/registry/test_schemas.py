from __future__ import annotations

import pytest

from panjereh.domain.errors import InvalidValue
from panjereh.registry.schemas import ValidatorCache, check_pointer, check_schema


def test_a_valid_schema_passes_and_remote_refs_are_never_fetched() -> None:
    assert check_schema({"type": "object"}, "request_schema") == {"type": "object"}
    with pytest.raises(InvalidValue) as caught:
        check_schema({"$ref": "http://169.254.169.254/schema.json"}, "request_schema")
    assert caught.value.code == "json-schema.invalid"


@pytest.mark.parametrize(
    ("schema", "code"),
    [
        ([], "json-schema.type"),
        ({"type": "nonsense"}, "json-schema.invalid"),
        ({"$schema": "http://json-schema.org/draft-04/schema#"}, "json-schema.draft"),
    ],
)
def test_it_refuses_bad_schemas(schema: object, code: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        check_schema(schema, "request_schema")
    assert caught.value.code == code


@pytest.mark.parametrize("pointer", ["/national_code", "/a/0/b", "/a~1b", "/m~0n"])
def test_it_accepts_json_pointers(pointer: str) -> None:
    assert check_pointer(pointer, "subject") == pointer


@pytest.mark.parametrize("pointer", ["", "national_code", "/a~2", 5, "/" + "x" * 250])
def test_it_refuses_bad_json_pointers(pointer: object) -> None:
    with pytest.raises(InvalidValue):
        check_pointer(pointer, "subject")


def test_the_validator_cache_compiles_each_schema_once() -> None:
    cache = ValidatorCache()
    first = cache.get({"type": "object", "required": ["a"]})
    again = cache.get({"required": ["a"], "type": "object"})  # same schema, other key order
    assert first is again
    assert cache.compiled == 1
    assert not first.is_valid({})
    cache.retain(set())
    assert len(cache) == 0
