"""The response cache: per-service TTL, keys that separate subjects and projections, bounds."""

from __future__ import annotations

from typing import Any

import pytest

from panjereh.domain.clock import FixedClock
from panjereh.exchange.cache import MemoryCache, StoredReply, cache_key

SERVICE = "civil-registry.person.v1"
QUESTION = {"national_code": "3066557359", "fields": {"b": 1, "a": 2}}
ANSWER = StoredReply(200, b'{"alive":true}', "application/json", (("x-a", "1"),))


class Cache:
    def __init__(self, **options: Any) -> None:
        self.clock = FixedClock()
        self.cache = MemoryCache(monotonic=lambda: self.clock.now().timestamp(), **options)


def key(subject: str = "s1", projection: tuple[str, ...] | None = None) -> str:
    return cache_key(SERVICE, subject, QUESTION, projection)


async def test_a_stored_answer_is_served_until_its_ttl_ends() -> None:
    c = Cache()
    assert await c.cache.get(key()) is None
    await c.cache.put(key(), ANSWER, 60)
    assert await c.cache.get(key()) == ANSWER
    c.clock.advance(59.9)
    assert await c.cache.get(key()) == ANSWER
    c.clock.advance(0.1)
    assert await c.cache.get(key()) is None
    assert len(c.cache) == 0
    assert c.cache.bytes == 0


async def test_a_ttl_of_zero_stores_nothing() -> None:
    c = Cache()
    await c.cache.put(key(), ANSWER, 0)
    assert await c.cache.get(key()) is None
    assert len(c.cache) == 0


async def test_two_projections_never_share_an_answer() -> None:
    c = Cache()
    await c.cache.put(key(projection=("first_name",)), ANSWER, 60)
    assert await c.cache.get(key(projection=("first_name", "last_name"))) is None
    assert await c.cache.get(key(projection=None)) is None
    assert await c.cache.get(key(projection=("first_name",))) == ANSWER


async def test_two_subjects_never_share_an_answer() -> None:
    c = Cache()
    await c.cache.put(key(subject="s1"), ANSWER, 60)
    assert await c.cache.get(key(subject="s2")) is None


def test_the_key_ignores_the_order_of_keys_in_the_body_but_not_the_values() -> None:
    reordered = {"fields": {"a": 2, "b": 1}, "national_code": "3066557359"}
    assert cache_key(SERVICE, "s1", reordered, None) == key()
    changed = {"national_code": "3066557359", "fields": {"b": 1, "a": 3}}
    assert cache_key(SERVICE, "s1", changed, None) != key()
    assert cache_key("civil-registry.alive.v1", "s1", QUESTION, None) != key()
    assert cache_key(SERVICE, None, QUESTION, None) != key()
    assert cache_key(SERVICE, "s1", QUESTION, ()) != key()


async def test_the_least_recently_used_entry_goes_first_beyond_the_entry_limit() -> None:
    c = Cache(max_entries=2)
    await c.cache.put("a", ANSWER, 60)
    await c.cache.put("b", ANSWER, 60)
    await c.cache.get("a")
    await c.cache.put("c", ANSWER, 60)
    assert await c.cache.get("b") is None
    assert await c.cache.get("a") == ANSWER
    assert await c.cache.get("c") == ANSWER


async def test_entries_are_evicted_beyond_the_byte_limit() -> None:
    c = Cache(max_bytes=5000)
    big = StoredReply(200, b"x" * 1000)
    for name in "abcdef":
        await c.cache.put(name, big, 60)
    assert c.cache.bytes <= 5000
    assert len(c.cache) == 4
    assert await c.cache.get("b") is None
    assert await c.cache.get("f") == big


async def test_an_answer_larger_than_the_reply_limit_is_not_kept() -> None:
    c = Cache(max_reply_bytes=500)
    await c.cache.put("a", StoredReply(200, b"x" * 1000), 60)
    assert await c.cache.get("a") is None


async def test_storing_a_key_again_replaces_its_answer_and_its_size() -> None:
    c = Cache()
    await c.cache.put("a", StoredReply(200, b"x" * 1000), 60)
    await c.cache.put("a", ANSWER, 60)
    assert await c.cache.get("a") == ANSWER
    assert c.cache.bytes < 1000


@pytest.mark.parametrize(
    "reply",
    [
        ANSWER,
        StoredReply(404, b'{"a":"\\n"}\n\n', "application/problem+json"),
        StoredReply(200, b""),
    ],
)
def test_a_stored_reply_survives_encoding(reply: StoredReply) -> None:
    assert StoredReply.decode(reply.encode()) == reply
