"""The one-pass verifier (`panjereh.storage.audit_scan`) on SQLite and PostgreSQL: byte for
byte the canonical form on tricky values, the same findings as the record-by-record path for
every kind of tampering, and windows."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.chain import canonical_bytes, chain_hash
from panjereh.audit.records import AuditRecord, Outcome
from panjereh.audit.verify import ChainVerifier, Finding, Problem
from panjereh.storage import audit_scan
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.audit_scan import verify_log
from panjereh.storage.checkpoints_repo import CheckpointStore, create_checkpoint, verify_checkpoints
from tests.integration.storage.tampering import tamper
from tests.integration.storage.test_audit_checkpoints import KEY_ID, NOW, _key, _sign
from tests.integration.storage.test_audit_verify import T0, _record

TEHRAN = timezone(timedelta(hours=3, minutes=30))


def _tricky() -> list[AuditRecord]:
    base = _record(1)
    return [
        dataclasses.replace(
            base,
            exchange_id="0190f3c2-3333-7000-8000-000000000001",
            purpose="بررسی صلاحیت — «مستمری» ۱۴۰۵",
            consumer='quote " backslash \\ slash / tab \t newline \n nul-ish \x01 \x7f emoji 🙂',
            duration_ms=0.1 + 0.2,
            provider_ms=0.0005,  # half a microsecond: rounds to even, like the writer
            cached=True,
            created_at=datetime(2026, 12, 2, 9, 0, 0, 1, tzinfo=UTC),
        ),
        dataclasses.replace(
            base,
            exchange_id="0190f3c2-3333-7000-8000-000000000002",
            consumer=None,
            service_id=None,
            purpose=None,
            subject_hash=None,
            outcome=Outcome.FAILED,
            status_code=504,
            error_type="ProviderTimeout",
            duration_ms=30000.0,
            request_hash=None,
            response_hash=None,
            request_id="req-\u200c-zwnj",
            auth_method="signature",
            replay_of="0190f3c2-3333-7000-8000-000000000001",
            cached=False,
            provider_ms=None,
            created_at=datetime(2026, 12, 2, 12, 29, 59, 999999, tzinfo=TEHRAN),
        ),
        dataclasses.replace(
            base,
            exchange_id="0190f3c2-3333-7000-8000-000000000003",
            duration_ms=0.0,
            provider_ms=1.0015,
            created_at=datetime(2026, 12, 2, 23, 59, 59, tzinfo=UTC),  # no fraction
        ),
    ]


async def _old(
    store: SqlAuditStore, engine: AsyncEngine
) -> tuple[list[Finding], list[Finding], int]:
    """The record-by-record path: `ChainVerifier.feed` and `verify_checkpoints`."""
    checker = ChainVerifier(await store.registered_shards())
    chains: list[Finding] = []
    async for row in store.stored_records():
        chains.extend(checker.feed(row))
    chains.extend(checker.finish())
    checkpoints = await CheckpointStore(engine).all()
    return chains, await verify_checkpoints(engine, checkpoints, _key), checker.summary.records


def _key_of(f: Finding) -> tuple[str, str, int, str, str]:
    return (f.shard or "", f.problem.value, f.seq or 0, f.exchange_id or "", f.detail)


async def _same_as_old(store: SqlAuditStore, engine: AsyncEngine) -> list[Finding]:
    chains, checkpoints, records = await _old(store, engine)
    report = await verify_log(engine, _key)
    # Rows without a shard sort first on SQLite and last on PostgreSQL in the old path.
    assert sorted(report.chains, key=_key_of) == sorted(chains, key=_key_of)
    assert report.checkpoints == checkpoints
    assert report.summary.records == records
    return report.findings


async def test_the_fast_path_hashes_tricky_values_byte_for_byte(
    store: SqlAuditStore, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row passes the fast path's own hash (one SHA-256 match over the writer's
    canonical bytes means the bytes are identical): the row-by-row path is never needed."""
    records = _tricky()
    await store.append(records)
    await _checkpoint(engine)

    def never(*_: object) -> list[Finding]:
        raise AssertionError("a row left the fast path")

    monkeypatch.setattr(ChainVerifier, "_check_raw", never)
    report = await verify_log(engine, _key)
    assert report.findings == []
    assert (report.summary.records, report.summary.shards, report.checked) == (3, 1, 1)
    (shard,) = (report.summary.heads or {}).keys()
    head = bytes(32)
    for seq, record in enumerate(records, start=1):
        head = chain_hash(head, canonical_bytes(record, shard, seq))
    assert report.summary.heads == {shard: (3, head.hex())}


async def _checkpoint(engine: AsyncEngine) -> None:
    assert await create_checkpoint(engine, key_id=KEY_ID, sign=_sign, now=NOW) is not None


@pytest.fixture
async def two(engine: AsyncEngine) -> AsyncIterator[SqlAuditStore]:
    """Two writers (two shards): 1-4 and 5-7 in one, 101-103 in the other, a checkpoint
    after each round (the second store is closed; the first is yielded)."""
    one, other = SqlAuditStore(engine), SqlAuditStore(engine)
    try:
        await one.append([_record(n) for n in range(1, 5)])
        await other.append([_record(n) for n in range(101, 104)])
        await _checkpoint(engine)
        await one.append([_record(n) for n in range(5, 8)])
        await _checkpoint(engine)
        await other.append([_record(104)])
        yield one
    finally:
        await one.close()
        await other.close()


async def _shard_of(engine: AsyncEngine, exchange_number: int) -> str:
    async with engine.connect() as conn:
        shard = (
            await conn.execute(
                text("SELECT shard FROM audit_records WHERE exchange_id = :x"),
                {"x": _record(exchange_number).exchange_id},
            )
        ).scalar()
    return str(shard)


async def test_an_intact_log_with_two_shards(two: SqlAuditStore, engine: AsyncEngine) -> None:
    assert await _same_as_old(two, engine) == []
    report = await verify_log(engine, _key)
    assert (report.summary.records, report.summary.shards, report.checked) == (11, 2, 2)


TAMPERING = {
    "changed": ["UPDATE audit_records SET purpose = 'curiosity' WHERE exchange_id = :x2"],
    "cached flipped": ["UPDATE audit_records SET cached = true WHERE exchange_id = :x6"],
    "batch deleted": ["DELETE FROM audit_records WHERE exchange_id IN (:x5, :x6, :x7)"],
    "tail cut": ["DELETE FROM audit_records WHERE exchange_id IN (:x103, :x104)"],
    "swapped": [
        "UPDATE audit_records SET seq = -seq WHERE exchange_id IN (:x2, :x3)",
        "UPDATE audit_records SET seq = 5 - (-seq) WHERE seq IN (-2, -3)",
    ],
    "unchained row": [
        "INSERT INTO audit_records (exchange_id, created_at, outcome, status_code, duration_ms,"
        " cached) VALUES ('0190f3c2-2222-7000-8000-999999999999', :t, 'ok', 200, 1.0, false)"
    ],
    "bad hash": ["UPDATE audit_records SET record_hash = 'xyz' WHERE exchange_id = :x3"],
    "hash in capitals": [
        "UPDATE audit_records SET record_hash = upper(record_hash) WHERE exchange_id = :x3"
    ],
    "time in another form": [
        # The same moment, stored as another writer's ISO text would be (SQLite), or moved
        # by an hour (PostgreSQL, where a time has one form): equal to the old path either way.
        "UPDATE audit_records SET created_at = created_at WHERE exchange_id = :x4"
    ],
    "shards table emptied": ["DELETE FROM audit_shards"],
    "all records deleted": ["DELETE FROM audit_records"],
    "checkpoint unsigned": ["UPDATE audit_checkpoints SET signature = 'AAAA' WHERE number = 1"],
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
async def test_the_same_findings_as_record_by_record(
    two: SqlAuditStore, engine: AsyncEngine, case: str
) -> None:
    values: dict[str, object] = {
        f"x{n}": _record(n).exchange_id for n in (*range(1, 8), *range(101, 105))
    }
    values["t"] = T0
    for statement in TAMPERING[case]:
        used = {k: v for k, v in values.items() if f":{k}" in statement}
        if case == "time in another form" and engine.dialect.name == "sqlite":
            statement = (
                "UPDATE audit_records SET created_at = replace(created_at, ' ', 'T') || "
                "'+00:00' WHERE exchange_id = :x4"
            )
        elif case == "time in another form":
            statement = (
                "UPDATE audit_records SET created_at = created_at + interval '1 hour' "
                "WHERE exchange_id = :x4"
            )
        await tamper(engine, statement, **used)
    found = await _same_as_old(two, engine)
    if case in ("hash in capitals",) or (
        case == "time in another form" and engine.dialect.name == "sqlite"
    ):
        assert found == []
    else:
        assert found != []


async def test_a_rewritten_chain_is_caught_as_by_the_checkpoints(
    two: SqlAuditStore, engine: AsyncEngine
) -> None:
    shard = await _shard_of(engine, 1)
    head = bytes(32)
    for n in range(1, 8):
        record = _record(n) if n != 2 else dataclasses.replace(_record(2), purpose="x")
        head = chain_hash(head, canonical_bytes(record, shard, n))
        await tamper(
            engine,
            "UPDATE audit_records SET purpose = :p, record_hash = :h WHERE exchange_id = :x",
            p=record.purpose,
            h=head.hex(),
            x=record.exchange_id,
        )
    found = await _same_as_old(two, engine)
    assert [(f.problem, f.seq) for f in found] == [
        (Problem.REWRITTEN, 4),
        (Problem.MERKLE, None),
        (Problem.REWRITTEN, 7),
        (Problem.MERKLE, None),
    ]


async def test_a_kept_copy_out_of_order_is_still_checked(
    two: SqlAuditStore, engine: AsyncEngine
) -> None:
    """A copy whose checkpoints overlap (not the log's): its Merkle roots are recomputed from
    a second read, and the findings name what differs."""
    first, second = await CheckpointStore(engine).all()
    overlapping = dataclasses.replace(second, number=3, ranges=first.ranges).signed(KEY_ID, _sign)
    report = await verify_log(engine, _key, kept=[first, second, overlapping])
    assert [f.problem for f in report.copies] == [Problem.CHECKPOINT_COPY]
    assert [f.problem for f in report.checkpoints] == [Problem.CHECKPOINT_CHAIN, Problem.MERKLE]
    assert report.chains == []


# Windows: one shard, records 1..10 created at T0 + n seconds, checkpoints over 1-3, 4-6, 7-10.


@pytest.fixture
async def ten(store: SqlAuditStore, engine: AsyncEngine) -> SqlAuditStore:
    for low, high in ((1, 4), (4, 7), (7, 11)):
        await store.append([_record(n) for n in range(low, high)])
        await _checkpoint(engine)
    return store


def _at(n: int) -> datetime:
    return T0 + timedelta(seconds=n)


async def _window(engine: AsyncEngine, low: int, high: int) -> list[tuple[Problem, int | None]]:
    report = await verify_log(engine, _key, since=_at(low), until=_at(high))
    return [(f.problem, f.seq) for f in report.findings]


async def test_a_window_checks_its_records_and_the_checkpoints_inside(
    ten: SqlAuditStore, engine: AsyncEngine
) -> None:
    report = await verify_log(engine, _key, since=_at(4), until=_at(7))
    assert report.findings == []
    assert (report.summary.records, report.summary.shards, report.checked) == (3, 1, 1)
    assert report.window is not None
    (shard,) = report.window.ranges
    assert report.window.ranges == {shard: (4, 6)}
    async with engine.connect() as conn:
        third = (
            await conn.execute(text("SELECT record_hash FROM audit_records WHERE seq = 3"))
        ).scalar()
    assert report.window.trusted == {shard: (3, third)}
    # From the beginning: the first record links to the shard's start.
    report = await verify_log(engine, _key, until=_at(3))
    assert report.findings == []
    assert report.window is not None
    assert report.window.trusted == {shard: (0, "00" * 32)}
    assert (report.summary.records, report.checked) == (2, 1)


async def test_tampering_inside_a_window_is_caught_and_outside_it_is_not(
    ten: SqlAuditStore, engine: AsyncEngine
) -> None:
    await tamper(engine, "UPDATE audit_records SET purpose = 'x' WHERE seq IN (2, 3, 5, 7, 9)")
    # The Merkle leaves are over the stored hashes: a changed record breaks its link only.
    assert await _window(engine, 4, 7) == [(Problem.BROKEN_LINK, 5)]
    # Record 3's content is outside; its stored hash is what the window trusts.
    await tamper(engine, "UPDATE audit_records SET record_hash = :h WHERE seq = 3", h="ab" * 32)
    assert await _window(engine, 4, 7) == [(Problem.BROKEN_LINK, 4), (Problem.BROKEN_LINK, 5)]
    assert await _window(engine, 8, 9) == []  # record 8 alone: 7 trusted, checkpoint 3 outside


async def test_a_window_catches_a_deleted_first_record_and_a_bad_signature(
    ten: SqlAuditStore, engine: AsyncEngine
) -> None:
    await tamper(engine, "UPDATE audit_checkpoints SET signature = 'AAAA' WHERE number = 3")
    # 5..8: checkpoints 2 and 3 touch the window (signatures), neither lies wholly in it.
    report = await verify_log(engine, _key, since=_at(5), until=_at(9))
    assert report.checked == 2
    assert [(f.problem, f.seq) for f in report.findings] == [(Problem.BAD_SIGNATURE, None)]
    assert report.findings[0].detail.startswith("checkpoint 3: the signature does not verify")
    await tamper(engine, "DELETE FROM audit_records WHERE seq = 4")
    # The window now starts after record 5's stored predecessor, #3: checkpoint 2 lies in it.
    assert await _window(engine, 4, 7) == [(Problem.MISSING, 4), (Problem.MERKLE, None)]


async def test_an_empty_window_and_an_unchained_row_in_one(
    ten: SqlAuditStore, engine: AsyncEngine
) -> None:
    report = await verify_log(engine, _key, since=_at(100))
    assert (report.findings, report.summary.records, report.checked) == ([], 0, 0)
    await tamper(
        engine,
        "INSERT INTO audit_records (exchange_id, created_at, outcome, status_code, duration_ms,"
        " cached) VALUES ('0190f3c2-2222-7000-8000-999999999999', :t, 'ok', 200, 1.0, false)",
        t=_at(5),
    )
    assert await _window(engine, 4, 7) == [(Problem.UNCHAINED, None)]
    assert await _window(engine, 7, 9) == []


async def test_the_covering_checkpoint_is_found_by_a_binary_search(
    two: SqlAuditStore, engine: AsyncEngine
) -> None:
    """prove()'s lookup: the same answer as scanning every checkpoint, for every record."""
    one, other = await _shard_of(engine, 1), await _shard_of(engine, 101)
    checkpoints = CheckpointStore(engine)
    for _ in range(3):  # more checkpoints, so the search has somewhere to go
        await two.append([_record(900 + (await two.count()))])
        await _checkpoint(engine)
    every = await checkpoints.all()
    assert len(every) == 5
    answers = []
    for shard, last in ((one, 10), (other, 5)):
        for seq in range(1, last + 1):
            found = await checkpoints.covering(shard, seq)
            assert found == CheckpointStore._scan(every, shard, seq)
            answers.append(None if found is None else found.number)
    assert answers == [1, 1, 1, 1, 2, 2, 2, 3, 4, 5, 1, 1, 1, 3, None]
    assert await checkpoints.covering("no-such-shard", 1) is None


@pytest.mark.parametrize(
    "case", [None, "changed", "batch deleted", "tail cut", "swapped", "bad hash", "unchained row"]
)
async def test_split_over_processes_the_findings_are_the_same(
    two: SqlAuditStore, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, case: str | None
) -> None:
    """A large log is verified in several processes, split at checkpoints: each part starts
    from the stored hash before it, so the findings are those of one pass."""
    values: dict[str, object] = {
        f"x{n}": _record(n).exchange_id for n in (*range(1, 8), *range(101, 105))
    }
    values["t"] = T0
    for statement in TAMPERING[case] if case else []:
        await tamper(engine, statement, **{k: v for k, v in values.items() if f":{k}" in statement})
    one_pass = await verify_log(engine, _key)
    monkeypatch.setattr(audit_scan, "PARALLEL_MIN", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    calls = []
    real = audit_scan._in_processes

    async def counted(*args: object) -> object:
        calls.append(args)
        return await real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(audit_scan, "_in_processes", counted)
    split = await verify_log(engine, _key)
    assert len(calls) == 1
    assert split.findings == one_pass.findings
    assert split.summary == one_pass.summary
    assert (split.findings == []) is (case is None)
