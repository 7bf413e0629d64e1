"""Signed checkpoints over the audit chains, on SQLite and PostgreSQL: made from what is
committed, and catching what chains alone cannot (a cut-off tail, a rewritten chain)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import nacl.bindings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
from panjereh.audit.verify import Problem
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.checkpoints_repo import (
    CheckpointStore,
    compare_copies,
    create_checkpoint,
    verify_checkpoints,
)
from tests.integration.storage.tampering import tamper
from tests.integration.storage.test_audit_verify import _record

PUBLIC, SECRET = nacl.bindings.crypto_sign_seed_keypair(bytes(range(32)))
KEY_ID = "exchange-2026-12-02"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def _sign(body: bytes) -> bytes:
    return nacl.bindings.crypto_sign(body, SECRET)[:64]


def _key(key_id: str) -> bytes | None:
    return PUBLIC if key_id == KEY_ID else None


async def _checkpoint(engine: AsyncEngine) -> None:
    made = await create_checkpoint(engine, key_id=KEY_ID, sign=_sign, now=NOW)
    assert made is not None


async def _problems(engine: AsyncEngine) -> list[tuple[Problem, int | None]]:
    checkpoints = await CheckpointStore(engine).all()
    return [(f.problem, f.seq) for f in await verify_checkpoints(engine, checkpoints, _key)]


async def test_checkpoints_cover_what_was_added_and_verify(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await store.append([_record(n) for n in range(1, 6)])
    await _checkpoint(engine)
    assert await create_checkpoint(engine, key_id=KEY_ID, sign=_sign, now=NOW) is None
    await store.append([_record(n) for n in range(6, 9)])
    await _checkpoint(engine)
    first, second = await CheckpointStore(engine).all()
    (shard,) = first.heads
    assert (first.number, first.ranges, first.tree_size) == (1, {shard: (1, 5)}, 5)
    assert (second.number, second.ranges, second.tree_size) == (2, {shard: (6, 8)}, 3)
    assert second.previous == first.hash
    assert second.heads[shard][0] == 8
    assert await _problems(engine) == []


async def test_a_cut_off_tail_is_caught(store: SqlAuditStore, engine: AsyncEngine) -> None:
    await store.append([_record(n) for n in range(1, 6)])
    await _checkpoint(engine)
    await _sql(engine, "DELETE FROM audit_records WHERE seq >= 4")
    assert await _problems(engine) == [(Problem.TRUNCATED, 5), (Problem.MERKLE, None)]


async def test_a_chain_rewritten_with_recomputed_hashes_is_caught(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    """Someone with the database changes record 2 and recomputes every later hash: the
    chains verify, the checkpoint does not."""
    await store.append([_record(n) for n in range(1, 6)])
    await _checkpoint(engine)
    async with engine.connect() as conn:
        shard = (await conn.execute(text("SELECT shard FROM audit_records LIMIT 1"))).scalar()
    head = GENESIS
    for n in range(1, 6):
        record = _record(n) if n != 2 else dataclasses.replace(_record(2), purpose="x")
        head = chain_hash(head, canonical_bytes(record, str(shard), n))
        await tamper(
            engine,
            "UPDATE audit_records SET purpose = :p, record_hash = :h WHERE seq = :n",
            p=record.purpose,
            h=head.hex(),
            n=n,
        )
    assert await _problems(engine) == [(Problem.REWRITTEN, 5), (Problem.MERKLE, None)]


async def test_a_forged_or_unlinked_checkpoint_is_caught(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await store.append([_record(n) for n in range(1, 4)])
    await _checkpoint(engine)
    await store.append([_record(4)])
    await _checkpoint(engine)
    first, second = await CheckpointStore(engine).all()
    forged = dataclasses.replace(second, tree_size=2)  # changed after signing
    unlinked = dataclasses.replace(second, previous="00" * 32).signed(KEY_ID, _sign)
    found = await verify_checkpoints(engine, [first, forged], _key)
    assert [f.problem for f in found] == [Problem.BAD_SIGNATURE, Problem.MERKLE]
    found = await verify_checkpoints(engine, [first, unlinked], _key)
    assert [f.problem for f in found] == [Problem.CHECKPOINT_CHAIN]


async def test_a_kept_copy_shows_a_rewritten_checkpoint_table(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await store.append([_record(n) for n in range(1, 4)])
    await _checkpoint(engine)
    kept = await CheckpointStore(engine).all()
    await _sql(engine, "DELETE FROM audit_checkpoints")
    assert [f.problem for f in compare_copies(kept, await CheckpointStore(engine).all())] == [
        Problem.CHECKPOINT_COPY
    ]
    assert compare_copies(kept, kept) == []


async def test_two_workers_making_the_same_checkpoint_store_it_once(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await store.append([_record(1)])
    await _checkpoint(engine)
    again = (await CheckpointStore(engine).all())[0]
    assert await CheckpointStore(engine).add(again) is False


async def _sql(engine: AsyncEngine, statement: str) -> None:
    await tamper(engine, statement)
