"""Record format panjereh.audit/2 in the store (SQLite and PostgreSQL): its values round-trip,
and records written before it (format 1) verify byte for byte next to it."""

from __future__ import annotations

import dataclasses

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
from panjereh.audit.records import AuditRecord
from panjereh.audit.verify import ChainVerifier, Problem
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.audit_scan import verify_log
from tests.integration.storage.tampering import tamper
from tests.integration.storage.test_audit_verify import _record
from tests.support import append_as_before_format_2


def _v2(n: int) -> AuditRecord:
    return dataclasses.replace(
        _record(n),
        format=2,
        context=None if n % 2 else f"application/{n}",
        request_bytes=40 + n,
        response_bytes=300 + n,
        operation="POST /exchange/v1/{service_id}",
        projection_id="basic" if n % 3 else None,
    )


async def test_a_format_2_record_round_trips_through_the_store(
    store: SqlAuditStore,
) -> None:
    records = [_v2(n) for n in range(1, 5)]
    await store.append(records)
    for record in records:
        assert await store.by_exchange_id(record.exchange_id) == record


async def test_format_1_records_written_before_verify_byte_for_byte_next_to_format_2(
    engine: AsyncEngine, store: SqlAuditStore
) -> None:
    old = [_record(n) for n in range(20, 24)]
    shard = await append_as_before_format_2(engine, old)
    await store.append([_v2(n) for n in range(1, 4)])
    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT seq, record_hash, format FROM audit_records WHERE shard = :s"),
                {"s": shard},
            )
        ).all()
    head = GENESIS
    for seq, record in enumerate(old, start=1):  # the hashes the old writer computed
        head = chain_hash(head, canonical_bytes(record, shard, seq))
        assert (seq, head.hex(), None) in [tuple(r) for r in stored]
        assert (await store.by_exchange_id(record.exchange_id)) == record
    checker = ChainVerifier(await store.registered_shards())
    found = [f async for row in store.stored_records() for f in checker.feed(row)]
    assert found == []
    report = await verify_log(engine, lambda _: None)
    assert report.findings == []
    assert report.summary.records == 7


async def test_a_changed_format_2_value_is_named_at_its_record(
    engine: AsyncEngine, store: SqlAuditStore
) -> None:
    await store.append([_v2(n) for n in range(1, 6)])
    await tamper(engine, "UPDATE audit_records SET response_bytes = 1 WHERE seq = 3")
    report = await verify_log(engine, lambda _: None)
    assert [(f.problem, f.seq) for f in report.findings] == [(Problem.BROKEN_LINK, 3)]
