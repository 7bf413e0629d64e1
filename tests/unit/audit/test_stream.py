"""The audit stream's message format and the consumer's chain check."""

from __future__ import annotations

import dataclasses
from datetime import timedelta, timezone

import orjson
import pytest

from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
from panjereh.audit.records import AuditRecord
from panjereh.audit.stream import (
    FORMAT,
    BadMessage,
    ChainFollower,
    StreamRecord,
    Verdict,
    decode,
    encode,
)
from tests import support

# The shared record with a Persian purpose: the message must carry it as UTF-8.
RECORD = dataclasses.replace(support.RECORD, purpose="بررسی-مستمری")


def chain(records: list[AuditRecord], shard: str = "w1") -> list[StreamRecord]:
    head, items = GENESIS, []
    for seq, record in enumerate(records, start=1):
        head = chain_hash(head, canonical_bytes(record, shard, seq))
        items.append(StreamRecord(record, shard, seq, head.hex()))
    return items


def numbered(n: int) -> AuditRecord:
    return dataclasses.replace(RECORD, exchange_id=f"0190f3c2-1111-7000-8000-{n:012d}")


def test_a_message_is_exactly_the_documented_json() -> None:
    body = encode(StreamRecord(RECORD, "w1", 7, "12" * 32))
    assert body == (
        b'{"format":"panjereh.audit.stream/1","shard":"w1","seq":7,"record_hash":"'
        + b"12" * 32
        + b'","record":{"exchange_id":"0190f3c2-1111-7000-8000-000000000001",'
        b'"created_at":"2026-12-02T08:30:00.120000Z","consumer":"social-security/benefits",'
        b'"service_id":"civil-registry.person.v1","purpose":"'
        + "بررسی-مستمری".encode()
        + b'","subject_hash":"'
        + b"ab" * 32
        + b'","outcome":"ok","status_code":200,"error_type":null,"duration_ms":3.25,'
        b'"request_hash":"' + b"cd" * 32 + b'","response_hash":"' + b"ef" * 32 + b'",'
        b'"request_id":"3f1e2d4c-5b6a-4798-8a7b-6c5d4e3f2a1b","auth_method":"api-key",'
        b'"replay_of":null,"cached":false,"provider_ms":1.5}}'
    )
    assert FORMAT == "panjereh.audit.stream/1"


def test_a_message_decodes_to_the_same_record_even_from_another_time_zone() -> None:
    tehran = RECORD.created_at.astimezone(timezone(timedelta(hours=3, minutes=30)))
    item = StreamRecord(dataclasses.replace(RECORD, created_at=tehran), "w1", 7, "12" * 32)
    back = decode(encode(item))
    assert back == StreamRecord(RECORD, "w1", 7, "12" * 32)
    assert back.record.created_at.utcoffset() == timedelta(0)
    assert canonical_bytes(back.record, "w1", 7) == canonical_bytes(RECORD, "w1", 7)


def test_a_message_with_only_the_required_fields_decodes_with_the_defaults() -> None:
    fields = {
        k: v
        for k, v in orjson.loads(encode(StreamRecord(RECORD, "w1", 1, "00" * 32)))["record"].items()
        if k not in {"request_id", "auth_method", "replay_of", "cached", "provider_ms"}
    }
    body = orjson.dumps(
        {"format": FORMAT, "shard": "w1", "seq": 1, "record_hash": "00" * 32, "record": fields}
    )
    record = decode(body).record
    assert (record.request_id, record.cached, record.provider_ms) == (None, False, None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not a panjereh.audit.stream/1 message"),
        (b'{"format":"panjereh.audit.stream/2"}', "not a panjereh.audit.stream/1 message"),
        (
            b'{"format":"panjereh.audit.stream/1","shard":"w1","seq":0,"record_hash":"x",'
            b'"record":{}}',
            "seq must be a positive integer",
        ),
        (
            b'{"format":"panjereh.audit.stream/1","shard":"w1","seq":true,"record_hash":"x",'
            b'"record":{}}',
            "seq must be a positive integer",
        ),
        (
            b'{"format":"panjereh.audit.stream/1","shard":7,"seq":1,"record_hash":"x","record":{}}',
            "shard and record_hash must be strings",
        ),
        (
            b'{"format":"panjereh.audit.stream/1","shard":"w1","seq":1,"record_hash":"x",'
            b'"record":[]}',
            "record must be an object",
        ),
        (
            b'{"format":"panjereh.audit.stream/1","shard":"w1","seq":1,"record_hash":"x",'
            b'"record":{"exchange_id":"e"}}',
            "record lacks consumer, created_at, duration_ms, error_type, outcome, purpose, "
            "request_hash, response_hash, service_id, status_code, subject_hash",
        ),
    ],
)
def test_a_bad_message_is_refused_with_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(BadMessage) as caught:
        decode(body)
    assert str(caught.value) == message


def test_a_naive_or_malformed_time_is_refused() -> None:
    data = orjson.loads(encode(StreamRecord(RECORD, "w1", 1, "00" * 32)))
    for value, message in [
        ("2026-12-02T08:30:00", "record's created_at has no time zone"),
        ("yesterday", "record has a bad created_at or outcome"),
    ]:
        data["record"]["created_at"] = value
        with pytest.raises(BadMessage) as caught:
            decode(orjson.dumps(data))
        assert str(caught.value) == message


def test_the_follower_verifies_a_chain_in_order() -> None:
    follower = ChainFollower()
    items = chain([numbered(n) for n in range(1, 4)])
    assert [follower.check(decode(encode(item))) for item in items] == [Verdict.VERIFIED] * 3
    assert follower.heads == {"w1": [3, items[-1].record_hash]}


def test_the_follower_skips_a_duplicate_and_holds_back_a_record_that_came_early() -> None:
    follower = ChainFollower()
    one, two, three = chain([numbered(n) for n in range(1, 4)])
    assert follower.check(one) is Verdict.VERIFIED
    assert follower.check(three) is Verdict.EARLY  # two is not here yet: redeliver later
    assert follower.check(two) is Verdict.VERIFIED
    assert follower.check(two) is Verdict.DUPLICATE
    assert follower.check(three) is Verdict.VERIFIED
    assert follower.heads == {"w1": [3, three.record_hash]}


def test_the_follower_keeps_shards_apart() -> None:
    follower = ChainFollower()
    a = chain([numbered(1), numbered(2)], shard="a")
    b = chain([numbered(3)], shard="b")
    assert [follower.check(x) for x in (a[0], b[0], a[1])] == [Verdict.VERIFIED] * 3
    assert follower.heads == {"a": [2, a[1].record_hash], "b": [1, b[0].record_hash]}


def test_the_follower_catches_an_altered_record_and_keeps_its_head() -> None:
    follower = ChainFollower()
    one, two = chain([numbered(1), numbered(2)])
    altered = dataclasses.replace(two, record=dataclasses.replace(two.record, purpose="x"))
    assert follower.check(one) is Verdict.VERIFIED
    assert follower.check(altered) is Verdict.BROKEN
    assert follower.heads == {"w1": [1, one.record_hash]}
    assert follower.check(two) is Verdict.VERIFIED


def test_the_follower_resumes_from_saved_heads() -> None:
    items = chain([numbered(n) for n in range(1, 4)])
    first = ChainFollower()
    first.check(items[0])
    saved = orjson.loads(orjson.dumps(first.heads))
    again = ChainFollower(saved)
    assert again.check(items[0]) is Verdict.DUPLICATE
    assert again.check(items[1]) is Verdict.VERIFIED
