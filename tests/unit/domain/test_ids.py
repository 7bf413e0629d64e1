"""Exchange ids: UUIDv7, unique, ordered by time."""

from __future__ import annotations

import re
import time
import uuid

from panjereh.domain.ids import IdMaker

CANONICAL = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_an_id_is_a_canonical_version_7_uuid() -> None:
    made = IdMaker()()
    assert CANONICAL.fullmatch(made)
    parsed = uuid.UUID(made)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert str(parsed) == made


def test_an_id_carries_the_time_it_was_made() -> None:
    before = time.time_ns() // 1_000_000
    made = IdMaker()()
    after = time.time_ns() // 1_000_000
    assert before <= uuid.UUID(made).int >> 80 <= after


def test_ids_are_unique_and_later_ids_sort_after_earlier_ones() -> None:
    make = IdMaker()
    first = [make() for _ in range(50_000)]
    time.sleep(0.002)
    later = make()
    assert len(set(first)) == len(first)
    assert later > max(first)


def test_two_makers_do_not_repeat_each_other() -> None:
    a, b = IdMaker(), IdMaker()
    assert not {a() for _ in range(1000)} & {b() for _ in range(1000)}
