"""Verifying from a starting point (records before it verified elsewhere, e.g. archived), on
SQLite and PostgreSQL: the chain continues from the start's hash, and checkpoints wholly
before the starts are not looked for in the database."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.verify import ChainVerifier, Problem
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.checkpoints_repo import CheckpointStore, create_checkpoint, verify_checkpoints
from tests.integration.storage.tampering import tamper
from tests.integration.storage.test_audit_checkpoints import KEY_ID, NOW, _key, _sign
from tests.integration.storage.test_audit_verify import _record


async def _head(engine: AsyncEngine, seq: int) -> tuple[str, bytes]:
    async with engine.connect() as conn:
        shard, digest = (
            await conn.execute(
                text("SELECT shard, record_hash FROM audit_records WHERE seq = :s"), {"s": seq}
            )
        ).one()
    return str(shard), bytes.fromhex(digest)


async def _from(
    store: SqlAuditStore, starts: dict[str, tuple[int, bytes]], after: int
) -> list[tuple[Problem, int | None, str]]:
    checker = ChainVerifier(await store.registered_shards(), starts=starts)
    found = []
    async for row in store.stored_records():
        if row.seq is not None and row.seq > after:
            found.extend(checker.feed(row))
    found.extend(checker.finish())
    return [(f.problem, f.seq, f.detail) for f in found]


async def _ten(store: SqlAuditStore) -> None:
    await store.append([_record(n) for n in range(1, 6)])
    await store.append([_record(n) for n in range(6, 11)])


async def test_a_shard_continues_from_its_start(store: SqlAuditStore, engine: AsyncEngine) -> None:
    await _ten(store)
    shard, head = await _head(engine, 4)
    # Record 2 changed: before the start, so verified (and caught) elsewhere, not here.
    await tamper(engine, "UPDATE audit_records SET purpose = 'curiosity' WHERE seq = 2")
    checker = ChainVerifier(await store.registered_shards(), starts={shard: (4, head)})
    assert checker.summary.heads == {shard: (4, head.hex())}
    assert await _from(store, {shard: (4, head)}, 4) == []
    await tamper(engine, "UPDATE audit_records SET purpose = 'curiosity' WHERE seq = 7")
    assert [p[:2] for p in await _from(store, {shard: (4, head)}, 4)] == [(Problem.BROKEN_LINK, 7)]


async def test_the_first_record_after_the_start_must_link_to_it(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await _ten(store)
    shard, _ = await _head(engine, 4)
    assert [p[:2] for p in await _from(store, {shard: (4, bytes(32))}, 4)] == [
        (Problem.BROKEN_LINK, 5)
    ]
    _, head = await _head(engine, 3)  # records 4 and 5 gone since the archive's end
    await tamper(engine, "DELETE FROM audit_records WHERE seq IN (4, 5)")
    assert await _from(store, {shard: (3, head)}, 3) == [
        (Problem.MISSING, 4, "records #4 to #5 are missing (deleted)")
    ]


async def test_a_record_at_or_before_the_start_is_out_of_place(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await _ten(store)
    shard, head = await _head(engine, 4)
    found = await _from(store, {shard: (4, head)}, 3)  # record 4 is fed too
    assert found == [
        (
            Problem.BROKEN_LINK,
            4,
            "numbered before #5, where this shard's chain continues after the records "
            "verified elsewhere: inserted or moved",
        )
    ]


async def test_a_started_shard_without_records_here_is_not_empty(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await _ten(store)
    shard, head = await _head(engine, 10)
    await tamper(engine, "DELETE FROM audit_records")  # all of it archived and detached
    assert await _from(store, {shard: (10, head)}, 0) == []
    assert [p[:2] for p in await _from(store, {}, 0)] == [(Problem.EMPTY_SHARD, None)]


async def test_checkpoints_before_the_starts_are_not_looked_for(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await store.append([_record(n) for n in range(1, 6)])
    assert await create_checkpoint(engine, key_id=KEY_ID, sign=_sign, now=NOW) is not None
    await store.append([_record(n) for n in range(6, 9)])
    assert await create_checkpoint(engine, key_id=KEY_ID, sign=_sign, now=NOW) is not None
    checkpoints = await CheckpointStore(engine).all()
    shard, head = await _head(engine, 5)
    await tamper(engine, "DELETE FROM audit_records WHERE seq <= 5")  # archived
    problems = await verify_checkpoints(engine, checkpoints, _key)
    assert [(f.problem, f.seq) for f in problems] == [
        (Problem.TRUNCATED, 5),
        (Problem.MERKLE, None),
    ]
    unchecked: list[int] = []
    starts = {shard: (5, head)}
    assert (
        await verify_checkpoints(engine, checkpoints, _key, starts=starts, unchecked=unchecked)
        == []
    )
    assert unchecked == []
    # A start that does not match what checkpoint 1 pinned is a rewritten chain.
    found = await verify_checkpoints(engine, checkpoints, _key, starts={shard: (5, bytes(32))})
    assert [(f.problem, f.seq) for f in found] == [(Problem.REWRITTEN, 5)]
    # A signature is still checked on a checkpoint wholly before the starts.
    forged = [checkpoints[0].signed(KEY_ID, lambda body: bytes(64)), checkpoints[1]]
    found = await verify_checkpoints(engine, forged, _key, starts=starts)
    assert [f.problem for f in found] == [Problem.BAD_SIGNATURE]


async def test_a_checkpoint_partly_before_the_starts_is_listed_as_unchecked(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await store.append([_record(n) for n in range(1, 6)])
    assert await create_checkpoint(engine, key_id=KEY_ID, sign=_sign, now=NOW) is not None
    checkpoints = await CheckpointStore(engine).all()
    shard, head = await _head(engine, 3)
    await tamper(engine, "DELETE FROM audit_records WHERE seq <= 3")
    unchecked: list[int] = []
    starts = {shard: (3, head)}
    assert (
        await verify_checkpoints(engine, checkpoints, _key, starts=starts, unchecked=unchecked)
        == []
    )
    assert unchecked == [1]
