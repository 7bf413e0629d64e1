"""Kept payloads through the real audit writer and store, on SQLite and PostgreSQL: sealed in
the records' transaction, never in clear, and only for the records that keep them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.payloads import KeptPayloads, PayloadError, PayloadKeys, PayloadKind
from panjereh.audit.records import AuditRecord
from panjereh.audit.writer import AuditUnavailable, AuditWriter
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.tables import audit_payloads, audit_records
from tests.support import RECORD

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
KEY = bytes(range(32))
REQUEST = b'{"national_code":"0012345679"}'
RESPONSE = '{"first_name":"مریم","national_code":"0012345679"}'.encode()


def record(n: int) -> AuditRecord:
    return dataclasses.replace(
        RECORD,
        exchange_id=f"0190f3c2-3333-7000-8000-{n:012d}",
        created_at=T0 + timedelta(seconds=n),
    )


async def payload_rows(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                audit_payloads.c.exchange_id, audit_payloads.c.kind, audit_payloads.c.key_id
            ).order_by(audit_payloads.c.exchange_id, audit_payloads.c.kind)
        )
        return [tuple(r) for r in rows]


async def record_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(audit_records)) or 0)


async def test_kept_bodies_are_sealed_next_to_their_records_and_open_again(
    engine: AsyncEngine,
) -> None:
    keys = PayloadKeys(KEY, key_id="payload-1")
    store = SqlAuditStore(engine, payload_keys=keys)
    writer = AuditWriter(store, payload_store=store)
    writer.start()
    try:
        kept = KeptPayloads(record(1).exchange_id, REQUEST, RESPONSE)
        await writer.record(record(1), kept)
        await writer.record(record(2))  # a service that keeps nothing
    finally:
        await writer.stop()
    try:
        assert await record_count(engine) == 2
        assert await payload_rows(engine) == [
            (record(1).exchange_id, "request", "payload-1"),
            (record(1).exchange_id, "response", "payload-1"),
        ]
        sealed = await store.sealed_payloads(record(1).exchange_id)
        assert [keys.open(s) for s in sealed] == [REQUEST, RESPONSE]
        assert [s.kind for s in sealed] == [PayloadKind.REQUEST, PayloadKind.RESPONSE]
        for s in sealed:
            assert b"0012345679" not in s.ciphertext
            assert len(s.nonce) == 12
        assert sealed[0].ciphertext != REQUEST
        assert await store.sealed_payloads(record(2).exchange_id) == []
    finally:
        await store.close()


async def test_a_batch_mixing_kept_and_plain_records_is_one_transaction(
    engine: AsyncEngine,
) -> None:
    keys = PayloadKeys(KEY, key_id="payload-1")
    store = SqlAuditStore(engine, payload_keys=keys)
    try:
        await store.append_with_payloads(
            [record(n) for n in range(1, 6)],
            [KeptPayloads(record(n).exchange_id, REQUEST, RESPONSE) for n in (2, 4)],
        )
        assert await record_count(engine) == 5
        assert [r[:2] for r in await payload_rows(engine)] == [
            (record(2).exchange_id, "request"),
            (record(2).exchange_id, "response"),
            (record(4).exchange_id, "request"),
            (record(4).exchange_id, "response"),
        ]
        # A batch whose payload rows fail (the same exchange id again) stores no record either.
        with pytest.raises(Exception, match="audit batch not stored"):
            await store.append_with_payloads(
                [record(6)], [KeptPayloads(record(2).exchange_id, REQUEST, RESPONSE)]
            )
        assert await record_count(engine) == 5
        assert len(await payload_rows(engine)) == 4
    finally:
        await store.close()


async def test_without_a_payload_key_nothing_is_stored_in_clear(engine: AsyncEngine) -> None:
    store = SqlAuditStore(engine)  # no payload keys
    writer = AuditWriter(store)  # so no payload store either
    writer.start()
    try:
        with pytest.raises(AuditUnavailable, match="without a payload key"):
            await writer.record(record(1), KeptPayloads(record(1).exchange_id, REQUEST, RESPONSE))
        with pytest.raises(Exception, match="no payload key"):
            await store.append_with_payloads(
                [record(2)], [KeptPayloads(record(2).exchange_id, REQUEST, RESPONSE)]
            )
    finally:
        await writer.stop()
        await store.close()
    assert await record_count(engine) == 0
    assert await payload_rows(engine) == []


async def test_a_stored_payload_altered_in_the_database_does_not_open(
    engine: AsyncEngine,
) -> None:
    keys = PayloadKeys(KEY, key_id="payload-1")
    store = SqlAuditStore(engine, payload_keys=keys)
    try:
        exchange_id = record(1).exchange_id
        await store.append_with_payloads(
            [record(1)], [KeptPayloads(exchange_id, REQUEST, RESPONSE)]
        )
        async with engine.begin() as conn:  # swap request and response, as an owner could
            if engine.dialect.name == "postgresql":
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
            else:
                for action in ("update", "delete"):
                    await conn.execute(text(f"DROP TRIGGER audit_payloads_no_{action}"))
            for old, new in (("request", "swap"), ("response", "request"), ("swap", "response")):
                await conn.execute(
                    text(
                        "UPDATE audit_payloads SET kind = :new "
                        "WHERE kind = :old AND exchange_id = :id"
                    ),
                    {"new": new, "old": old, "id": exchange_id},
                )
        for sealed in await store.sealed_payloads(exchange_id):
            with pytest.raises(PayloadError, match="the stored payload was altered"):
                keys.open(sealed)
    finally:
        await store.close()


async def test_kept_payloads_are_append_only(engine: AsyncEngine) -> None:
    keys = PayloadKeys(KEY, key_id="payload-1")
    store = SqlAuditStore(engine, payload_keys=keys)
    try:
        await store.append_with_payloads(
            [record(1)], [KeptPayloads(record(1).exchange_id, REQUEST, RESPONSE)]
        )
    finally:
        await store.close()
    for statement in ("UPDATE audit_payloads SET key_id = 'x'", "DELETE FROM audit_payloads"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    assert len(await payload_rows(engine)) == 2
