"""Signed shard heads (SQLite and PostgreSQL): a record its writer did not vouch for is named
by `verify_log`, and a cut tail by the heads published outside the database
(docs/audit-log.md, "What the log proves, and against whom")."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.chain import CURRENT, canonical_bytes, chain_hash
from panjereh.audit.heads import HeadEvidence, SignedHead
from panjereh.audit.publish import FolderPublication, Publications, read_published
from panjereh.audit.records import AuditRecord
from panjereh.audit.verify import Problem
from panjereh.domain.clock import FixedClock
from panjereh.storage.audit_repo import HeadPolicy, SqlAuditStore
from panjereh.storage.audit_scan import Report, verify_log
from panjereh.storage.checkpoints_repo import CutRefused, create_checkpoint
from tests.integration.storage.tampering import tamper
from tests.integration.storage.test_audit_verify import _record

T0 = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
HEAD_SECONDS = 0.25
LEASE_SECONDS = 15.0
KEY = Ed25519PrivateKey.generate()
PUBLIC = {"k1": KEY.public_key().public_bytes_raw()}


def _v2(n: int) -> AuditRecord:
    return dataclasses.replace(_record(n), format=CURRENT, request_bytes=40, response_bytes=300)


@dataclasses.dataclass
class Setup:
    engine: AsyncEngine
    clock: FixedClock
    folder: Path

    def policy(self, name: str) -> HeadPolicy:
        return HeadPolicy(
            signer=lambda: ("k1", KEY.sign),
            clock=self.clock,
            seconds=HEAD_SECONDS,
            lease_seconds=LEASE_SECONDS,
            publications=Publications([FolderPublication(self.folder, name)]),
        )

    def store(self, name: str = "a") -> SqlAuditStore:
        return SqlAuditStore(self.engine, heads=self.policy(name))

    async def verify(self, *, published: bool = False) -> Report:
        heads = read_published(self.folder)[0] if published else None
        evidence = HeadEvidence(self.clock.now(), HEAD_SECONDS, LEASE_SECONDS, published=heads)
        return await verify_log(self.engine, PUBLIC.get, heads=evidence)


@pytest.fixture
async def setup(engine: AsyncEngine, tmp_path: Path) -> Setup:
    return Setup(engine, FixedClock(T0), tmp_path / "published")


def _named(report: Report) -> list[tuple[Problem, int | None]]:
    return [(f.problem, f.seq) for f in report.findings]


async def _forge(engine: AsyncEngine, shard: str, n: int) -> None:
    """Append record ``n`` after the shard's last record with a correct hash, the way anyone
    who can write to the database can (the format is published, the hash unkeyed)."""
    async with engine.connect() as conn:
        seq, previous = (
            await conn.execute(
                text(
                    "SELECT seq, record_hash FROM audit_records WHERE shard = :s "
                    "ORDER BY seq DESC LIMIT 1"
                ),
                {"s": shard},
            )
        ).one()
    record = _v2(n)
    digest = chain_hash(bytes.fromhex(previous), canonical_bytes(record, shard, seq + 1))
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    values.update(outcome=record.outcome.value, shard=shard, seq=seq + 1, record_hash=digest.hex())
    names = ", ".join(values)
    marks = ", ".join(f":{k}" for k in values)
    await tamper(engine, f"INSERT INTO audit_records ({names}) VALUES ({marks})", **values)  # noqa: S608


async def test_a_writer_signs_its_head_with_its_first_batch_and_publishes_it(
    setup: Setup,
) -> None:
    store = setup.store()
    try:
        await store.append([_v2(n) for n in range(1, 4)])
    finally:
        await store.close()
    heads, _, bad = read_published(setup.folder)
    assert bad == []
    assert [(h.shard, h.seq, h.closing) for h in heads] == [(store.shard, 3, False)]
    assert heads[0].signature_valid(PUBLIC.get)
    assert _named(await setup.verify(published=True)) == []


async def test_a_forged_append_to_a_live_shard_is_named_once_its_writer_would_have_signed_it(
    setup: Setup,
) -> None:
    store = setup.store()
    try:
        await store.append([_v2(n) for n in range(1, 4)])
        await _forge(setup.engine, store.shard, 4)
        inside = await setup.verify()
        setup.clock.advance(2 * HEAD_SECONDS + 0.01)
        await store.tick()  # the live writer signs what it wrote: its head is still #3
        named = await setup.verify()
    finally:
        await store.close()
    assert _named(inside) == []
    assert inside.evidence is not None
    assert inside.evidence.pending == 1
    assert _named(named) == [(Problem.UNSIGNED, 4)]


async def test_a_forged_append_to_a_closed_shard_is_named(setup: Setup) -> None:
    store = setup.store()
    try:
        await store.append([_v2(n) for n in range(1, 4)])
        closing = await store.close_shard()
    finally:
        await store.close()
    assert closing is not None
    assert (closing.seq, closing.closing) == (3, True)
    assert _named(await setup.verify()) == []
    await _forge(setup.engine, store.shard, 4)
    report = await setup.verify()
    assert _named(report) == [(Problem.UNSIGNED, 4)]
    assert "closing head" in report.findings[0].detail


async def _crash_after(setup: Setup, age: float) -> str:
    """A writer stores #1-3 (signed with the batch), then #4-6 0.1 s later (no head due),
    then lives ``age`` s more and crashes (no closing head); its shard's id."""
    store = setup.store()
    try:
        await store.append([_v2(n) for n in range(1, 4)])
        setup.clock.advance(0.1)
        await store.append([_v2(n) for n in range(4, 7)])
        setup.clock.advance(age - 0.1)
        await store.tick()
    finally:
        await store.close()  # a crash: no closing head
    return store.shard


async def _cut_tail(engine: AsyncEngine, shard: str, after: int) -> None:
    """Delete the records after #``after`` and every stored head past it, as a database
    owner can."""
    await tamper(
        engine, "DELETE FROM audit_records WHERE shard = :s AND seq > :n", s=shard, n=after
    )
    await tamper(engine, "DELETE FROM audit_heads WHERE shard = :s AND seq > :n", s=shard, n=after)


async def test_a_tail_cut_of_a_crashed_writers_shard_is_named_by_the_published_heads(
    setup: Setup,
) -> None:
    shard = await _crash_after(setup, 0.3)  # past the interval: #6 was signed and published
    await _cut_tail(setup.engine, shard, 3)
    setup.clock.advance(LEASE_SECONDS + 1)
    assert _named(await setup.verify()) == [(Problem.UNCLOSED, None)]
    restarted = setup.store("b")
    try:
        closed = await restarted.close_gone()
    finally:
        await restarted.close()
    assert [(h.shard, h.seq, h.closed_by) for h in closed] == [(shard, 3, restarted.shard)]
    assert _named(await setup.verify()) == []  # the database alone looks whole
    report = await setup.verify(published=True)
    assert _named(report) == [(Problem.TRUNCATED, 6)]


@pytest.mark.parametrize(("age", "named"), [(0.2, False), (0.3, True)])
async def test_a_cut_is_named_once_it_is_older_than_the_window(
    setup: Setup, age: float, named: bool
) -> None:
    """The unprotected window is the head interval plus the publication delay (here ~0: the
    line is fsynced before the batch's caller goes on): #4-6, written 0.1 s after the head of
    #3, are signed by the head due at 0.25 s.  Cut before it, nothing names them; cut after
    it, the published head does."""
    shard = await _crash_after(setup, age)
    await _cut_tail(setup.engine, shard, 3)
    setup.clock.advance(LEASE_SECONDS + 1)
    restarted = setup.store("b")
    try:
        await restarted.close_gone()
    finally:
        await restarted.close()
    report = await setup.verify(published=True)
    assert _named(report) == ([(Problem.TRUNCATED, 6)] if named else [])


async def test_the_records_of_a_crashed_writer_after_its_last_signed_head_are_named_not_adopted(
    setup: Setup,
) -> None:
    shard = await _crash_after(setup, 0.2)  # #4-6 never signed
    setup.clock.advance(LEASE_SECONDS + 1)
    restarted = setup.store("b")
    try:
        await restarted.close_gone()
    finally:
        await restarted.close()
    report = await setup.verify()
    assert _named(report) == [(Problem.UNSIGNED, 4)]
    assert report.findings[0].shard == shard


async def test_a_head_whose_signature_fails_is_named(setup: Setup) -> None:
    store = setup.store()
    try:
        await store.append([_v2(n) for n in range(1, 4)])
        await store.close_shard()
    finally:
        await store.close()
    other = Ed25519PrivateKey.generate()
    forged = SignedHead(store.shard, 4, "ab" * 32, setup.clock.now(), closing=True).signed(
        "k1", other.sign
    )
    await tamper(
        setup.engine,
        "INSERT INTO audit_heads (shard, seq, head, created_at, closing, key_id, signature) "
        "VALUES (:s, 4, :h, :t, :c, 'k1', :g)",
        s=forged.shard,
        h=forged.head,
        t=forged.created_at,
        c=True,
        g=forged.signature,
    )
    assert (Problem.BAD_SIGNATURE, 4) in _named(await setup.verify())


async def test_a_tail_cut_before_the_next_checkpoint_is_refused_and_then_named(
    setup: Setup,
) -> None:
    store = setup.store()
    try:
        await store.append([_v2(n) for n in range(1, 4)])  # head #3 signed with the batch
        setup.clock.advance(0.1)
        await store.append([_v2(n) for n in range(4, 7)])  # not yet: the interval
        committed = store.committed_head()
        assert committed is not None
        await _cut_tail(setup.engine, store.shard, 4)
        with pytest.raises(CutRefused, match=r"ends at #4, behind #6"):
            await create_checkpoint(
                setup.engine,
                key_id="k1",
                sign=KEY.sign,
                now=setup.clock.now(),
                floors={store.shard: committed[1:]},
            )
        setup.clock.advance(HEAD_SECONDS)
        signed = await store.tick()  # the writer signs the head it holds: #6
    finally:
        await store.close()
    assert signed is not None
    assert signed.seq == 6
    assert _named(await setup.verify()) == [(Problem.TRUNCATED, 6)]
