"""Making, storing and reading the audit log's signed checkpoints (docs/audit-log.md).

A checkpoint is made from what is committed: each shard's head now, the records each shard
added since the previous checkpoint, their Merkle root, and the control-plane event stream's
head (`event_stream_heads`).  Several workers may try at once: the
checkpoint number is the primary key, so one insert wins and the others give up until the
next round.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import RowMapping, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit import merkle
from panjereh.audit.chain import GENESIS
from panjereh.audit.checkpoints import NO_PREVIOUS, Checkpoint
from panjereh.audit.events_chain import GENESIS as NO_EVENTS
from panjereh.audit.events_chain import STREAM
from panjereh.audit.proofs import bundle
from panjereh.audit.records import AuditRecord
from panjereh.audit.verify import Finding, Problem
from panjereh.storage.archive_cuts import archived_cuts, leaves_across
from panjereh.storage.audit_repo import last_signed_heads, record_from_row
from panjereh.storage.events_repo import stream_head
from panjereh.storage.tables import audit_checkpoints, audit_records

Start = tuple[int, bytes]  # (last seq verified elsewhere, its record hash)


class CheckpointStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def heads(self) -> dict[str, tuple[int, str]]:
        """Every shard's last sequence number and head hash, as committed now."""
        r = audit_records.c
        last = (
            select(r.shard, func.max(r.seq).label("seq"))
            .where(r.shard.is_not(None))
            .group_by(r.shard)
            .subquery()
        )
        query = select(r.shard, r.seq, r.record_hash).join(
            last, and_(r.shard == last.c.shard, r.seq == last.c.seq)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {shard: (int(seq), str(head)) for shard, seq, head in rows}

    async def leaves(self, ranges: Mapping[str, tuple[int, int]]) -> list[bytes]:
        """The Merkle leaves over ``ranges``: shards in sorted order, records by sequence;
        each leaf is over the record's stored chain hash (which covers its canonical bytes
        and its place in the chain), so making a checkpoint reads one column."""
        r = audit_records.c
        found: list[bytes] = []
        async with self._engine.connect() as conn:
            for shard in sorted(ranges):
                first, last = ranges[shard]
                query = (
                    select(r.record_hash)
                    .where(r.shard == shard, r.seq >= first, r.seq <= last)
                    .order_by(r.seq)
                )
                result = await conn.stream(query.execution_options(yield_per=1000))
                async for (digest,) in result:
                    found.append(merkle.leaf_hash(_hash_bytes(digest)))
        return found

    async def all(self) -> list[Checkpoint]:
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.number))
            ).mappings()
            return [_from_row(row) for row in rows]

    async def since(self, after: int, limit: int) -> list[Checkpoint]:
        """Up to ``limit`` checkpoints numbered above ``after``, oldest first."""
        c = audit_checkpoints.c
        query = select(audit_checkpoints).where(c.number > after).order_by(c.number).limit(limit)
        async with self._engine.connect() as conn:
            return [_from_row(row) for row in (await conn.execute(query)).mappings()]

    async def number(self, number: int) -> Checkpoint | None:
        query = select(audit_checkpoints).where(audit_checkpoints.c.number == number)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _from_row(row)

    async def covering(self, shard: str, seq: int) -> Checkpoint | None:
        """The checkpoint whose range of ``shard`` holds record ``seq``, or None.

        Each checkpoint pins every shard's head, and a shard's pinned head only grows from one
        checkpoint to the next, so the first checkpoint whose head of ``shard`` is at or past
        ``seq`` is the one that added it: a binary search over the checkpoint numbers (the
        primary key), a few lookups however many checkpoints there are."""
        c = audit_checkpoints.c
        async with self._engine.connect() as conn:
            low, high = (await conn.execute(select(func.min(c.number), func.max(c.number)))).one()
        if low is None:
            return None
        found: Checkpoint | None = None
        low, high = int(low), int(high)
        while low <= high:
            middle = (low + high) // 2
            checkpoint = await self.number(middle)
            if checkpoint is None:  # numbers with a gap: not the log as written
                return self._scan(await self.all(), shard, seq)
            if checkpoint.heads.get(shard, (0, ""))[0] >= seq:
                found, high = checkpoint, middle - 1
            else:
                low = middle + 1
        if found is not None:
            first, last = found.ranges.get(shard, (0, -1))
            if first <= seq <= last:
                return found
            return self._scan(await self.all(), shard, seq)  # heads and ranges disagree
        return None

    @staticmethod
    def _scan(checkpoints: list[Checkpoint], shard: str, seq: int) -> Checkpoint | None:
        for checkpoint in reversed(checkpoints):
            first, last = checkpoint.ranges.get(shard, (0, -1))
            if first <= seq <= last:
                return checkpoint
        return None

    async def last(self) -> Checkpoint | None:
        query = select(audit_checkpoints).order_by(audit_checkpoints.c.number.desc()).limit(1)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _from_row(row)

    async def add(self, checkpoint: Checkpoint) -> bool:
        """Store ``checkpoint``; False if another worker stored that number first."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    audit_checkpoints.insert().values(
                        number=checkpoint.number,
                        created_at=checkpoint.created_at,
                        body=checkpoint.body().decode("utf-8"),
                        checkpoint_hash=checkpoint.hash,
                        key_id=checkpoint.key_id,
                        signature=checkpoint.signature,
                    )
                )
        except IntegrityError:
            return False
        return True


def _hash_bytes(digest: object) -> bytes:
    try:
        return bytes.fromhex(str(digest))
    except ValueError:  # a damaged hash still makes a leaf, so the root shows the damage
        return str(digest).encode("utf-8", "replace")


def _from_row(row: RowMapping) -> Checkpoint:
    document = orjson.loads(str(row["body"]))
    document["key_id"] = row["key_id"]
    document["signature"] = row["signature"]
    return Checkpoint.from_json(document)


class CutRefused(Exception):
    """The heads read back from the database are behind a head the exchange holds or signed:
    a tail was cut (or rewritten).  No checkpoint is signed over it."""

    def __init__(self, cuts: list[str]) -> None:
        super().__init__("; ".join(cuts))
        self.cuts = cuts


def cuts_below(
    heads: Mapping[str, tuple[int, str]], floors: Mapping[str, tuple[int, str]], why: str
) -> list[str]:
    """Each shard whose head in ``heads`` is behind its floor, or at it with another hash."""
    found = []
    for shard, (seq, head) in sorted(floors.items()):
        now_seq, now_head = heads.get(shard, (0, GENESIS.hex()))
        if now_seq < seq:
            found.append(f"shard {shard} ends at #{now_seq}, behind #{seq} ({why})")
        elif now_seq == seq and seq and now_head != head:
            found.append(f"shard {shard} #{seq} has another hash than {why}")
    return found


async def create_checkpoint(
    engine: AsyncEngine,
    *,
    key_id: str,
    sign: Callable[[bytes], bytes],
    now: datetime,
    floors: Mapping[str, tuple[int, str]] | None = None,
) -> Checkpoint | None:
    """Sign and store the next checkpoint; None when neither a shard nor the control-plane
    event stream moved since the last one (or another worker stored this number first).
    A pinned event was committed before the checkpoint was, so a verifier that reads the
    checkpoints and then the events finds every event they pin.

    Never signs a head behind one the exchange holds or signed before: ``floors`` (this
    process's writer's committed head, the heads it pinned before), the shards' stored signed
    heads and the previous checkpoint's heads; `CutRefused` names each cut instead."""
    store = CheckpointStore(engine)
    previous = await store.last()
    events_head = await stream_head(engine, STREAM) or (0, NO_EVENTS.hex())
    heads = await store.heads()
    before = previous.heads if previous is not None else {}
    async with engine.connect() as conn:
        signed = {s: (h.seq, h.head) for s, h in (await last_signed_heads(conn)).items()}
    cuts = [
        *cuts_below(heads, floors or {}, "the head this exchange holds or pinned"),
        *cuts_below(heads, signed, "its writer's last signed head"),
        *cuts_below(heads, before, f"checkpoint {previous.number if previous else 0}"),
    ]
    if cuts:
        raise CutRefused(sorted(set(cuts)))
    ranges = {
        shard: (before[shard][0] + 1 if shard in before else 1, seq)
        for shard, (seq, _) in heads.items()
        if seq > (before[shard][0] if shard in before else 0)
    }
    pinned_before = (previous.events or {}).get(STREAM, (0, "")) if previous else (0, "")
    if not ranges and events_head[0] <= pinned_before[0]:
        return None
    leaves = await store.leaves(ranges)
    checkpoint = Checkpoint(
        number=(previous.number + 1) if previous is not None else 1,
        created_at=now,
        heads={**before, **heads},
        ranges=ranges,
        tree_size=len(leaves),
        merkle_root=merkle.root(leaves).hex(),
        previous=previous.hash if previous is not None else NO_PREVIOUS,
        events={STREAM: events_head},
    ).signed(key_id, sign)
    return checkpoint if await store.add(checkpoint) else None


def before_starts(ranges: Mapping[str, tuple[int, int]], starts: Mapping[str, Start]) -> str:
    """Where a checkpoint's records lie against ``starts`` (see `ChainVerifier`): "all" when
    every one is at or before its shard's start (verified elsewhere), "some" when only part
    of them are, "none" when none is."""
    before = [s in starts and b <= starts[s][0] for s, (_, b) in ranges.items()]
    some = [s in starts and a <= starts[s][0] for s, (a, _) in ranges.items()]
    if before and all(before):
        return "all"
    return "some" if any(some) else "none"


async def verify_checkpoints(
    engine: AsyncEngine,
    checkpoints: list[Checkpoint],
    public_key_for: Callable[[str], bytes | None],
    *,
    starts: Mapping[str, Start] | None = None,
    unchecked: list[int] | None = None,
) -> list[Finding]:
    """Check ``checkpoints`` (from the log, or a copy kept elsewhere) against the records:
    signatures, the chain of checkpoints, every pinned head, every Merkle root.  (The
    control-plane stream heads they pin are checked with the events:
    `EventChainVerifier.check_pins`.)

    With ``starts`` (shard -> (seq, head hash): records up to seq verified elsewhere, e.g. in
    an archive), a head pinned at or before a start is not looked up (one pinned exactly at
    the start must have the start's hash), and a checkpoint whose records all lie at or
    before the starts has only its signature and link checked; one whose records lie partly
    before them cannot have its Merkle root recomputed here: its number is added to
    ``unchecked``."""
    found: list[Finding] = []
    store = CheckpointStore(engine)
    starts = starts or {}
    previous: Checkpoint | None = None
    for checkpoint in sorted(checkpoints, key=lambda c: c.number):
        label = f"checkpoint {checkpoint.number}"
        if not checkpoint.signature_valid(public_key_for):
            found.append(
                Finding(
                    Problem.BAD_SIGNATURE,
                    None,
                    None,
                    None,
                    f"{label}: the signature does not verify with the published key "
                    f"{checkpoint.key_id!r}",
                )
            )
        follows = previous is not None and previous.number + 1 == checkpoint.number
        if follows and previous is not None and checkpoint.previous != previous.hash:
            found.append(
                Finding(
                    Problem.CHECKPOINT_CHAIN,
                    None,
                    None,
                    None,
                    f"{label} does not name checkpoint {previous.number} as its previous",
                )
            )
        previous = checkpoint
        found.extend(await _head_findings(engine, label, checkpoint, starts))
        where = before_starts(checkpoint.ranges, starts)
        if where == "all":
            continue
        if where == "some":
            if unchecked is not None:
                unchecked.append(checkpoint.number)
            continue
        leaves = await store.leaves(checkpoint.ranges)
        if len(leaves) != checkpoint.tree_size or merkle.root(leaves).hex() != (
            checkpoint.merkle_root
        ):
            found.append(
                Finding(
                    Problem.MERKLE,
                    None,
                    None,
                    None,
                    f"{label}: its {checkpoint.tree_size} records no longer give its Merkle "
                    f"root ({len(leaves)} found)",
                )
            )
    return found


async def _head_findings(
    engine: AsyncEngine, label: str, checkpoint: Checkpoint, starts: Mapping[str, Start]
) -> list[Finding]:
    """Every head ``checkpoint`` pinned, against the records (or the start verified
    elsewhere, for a head at or before it)."""
    found: list[Finding] = []
    for shard, (seq, head) in sorted(checkpoint.heads.items()):
        if shard in starts and seq <= starts[shard][0]:
            if seq == starts[shard][0] and head != starts[shard][1].hex():
                found.append(
                    Finding(
                        Problem.REWRITTEN,
                        shard,
                        seq,
                        None,
                        f"{label} pinned this head with another hash than the one "
                        "verified elsewhere: the chain was rewritten",
                    )
                )
            continue
        stored = await _hash_at(engine, shard, seq)
        if stored is None:
            found.append(
                Finding(
                    Problem.TRUNCATED,
                    shard,
                    seq,
                    None,
                    f"{label} pinned this record as the shard's head; it is gone",
                )
            )
        elif stored != head:
            found.append(
                Finding(
                    Problem.REWRITTEN,
                    shard,
                    seq,
                    None,
                    f"{label} pinned this head with another hash: the chain was rewritten",
                )
            )
    return found


def compare_copies(kept: list[Checkpoint], logged: list[Checkpoint]) -> list[Finding]:
    """A copy kept outside (an agency's, an auditor's) against the log's own checkpoints."""
    by_number = {c.number: c for c in logged}
    found = []
    for copy in kept:
        mine = by_number.get(copy.number)
        if mine is None or mine.hash != copy.hash:
            what = "is missing from the log" if mine is None else "differs in the log"
            found.append(
                Finding(
                    Problem.CHECKPOINT_COPY,
                    None,
                    None,
                    None,
                    f"checkpoint {copy.number} {what}: the log was rewritten",
                )
            )
    return found


async def _hash_at(engine: AsyncEngine, shard: str, seq: int) -> str | None:
    r = audit_records.c
    query = select(r.record_hash).where(r.shard == shard, r.seq == seq)
    async with engine.connect() as conn:
        value = (await conn.execute(query)).scalar()
    return None if value is None else str(value)


class NotYetCheckpointed(Exception):
    """The record exists but no checkpoint covers it yet."""


async def prove(engine: AsyncEngine, exchange_id: str) -> tuple[AuditRecord, dict[str, Any]] | None:
    """The record with this exchange id and its proof bundle (`panjereh.audit.proofs`); None
    if there is no such chained record; NotYetCheckpointed until a checkpoint covers it."""
    r = audit_records.c
    async with engine.connect() as conn:
        row = (
            (await conn.execute(select(audit_records).where(r.exchange_id == exchange_id)))
            .mappings()
            .first()
        )
        if row is None or row["shard"] is None or row["seq"] is None:
            return None
        shard, seq = str(row["shard"]), int(row["seq"])
        cuts = await archived_cuts(conn)  # months detached into archives (archive_cuts)
        previous = GENESIS
        if seq > 1:
            before = (
                await conn.execute(select(r.record_hash).where(r.shard == shard, r.seq == seq - 1))
            ).scalar() or cuts.hash_at(shard, seq - 1)
            if before is None:
                return None  # the chain is broken here: `panjereh audit verify` says how
            previous = bytes.fromhex(str(before))
    covering = await CheckpointStore(engine).covering(shard, seq)
    if covering is None:
        raise NotYetCheckpointed(exchange_id)
    leaves = await leaves_across(CheckpointStore(engine), covering.ranges, cuts)
    index = sum(b - a + 1 for s, (a, b) in covering.ranges.items() if s < shard)
    index += seq - covering.ranges[shard][0]
    record = record_from_row(row)
    document = bundle(
        record,
        shard=shard,
        seq=seq,
        previous_hash=previous,
        leaf_index=index,
        path=merkle.inclusion_proof(leaves, index),
        checkpoint=covering,
    )
    return record, document
