"""Retention: a month of audit records exported to a signed archive, then detached
(docs/audit-log.md, "Volume and retention").

`export_month` writes the archive (`panjereh.audit.archive`) and checks it before it is kept:
the exchange's signature on an archive vouches for what it holds, so a month whose chain or
checkpoints do not verify is never archived.  `detach_month` takes a month out of the live log
only if its archive verifies and holds exactly the month's live rows, and only where the cut
is clean (each shard's archived records follow the previous archive's and no live record of
the shard comes before the cut): then `panjereh audit verify` starts every shard's chain at
the cut recorded in ``audit_archives``.  PostgreSQL detaches the month's partition (and drops
it, or keeps it as a plain append-only table); SQLite, with its one table, deletes the rows
with the append-only trigger lifted inside the same transaction.

The kept payloads of the month's records (``audit_payloads``, sealed bodies, by exchange id)
go into the archive after their records, ciphertext as stored (format 2), and leave the live
table in the same transaction as the detach: the detach is the one path that removes them,
past their append-only trigger, which it lifts inside that transaction only.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    and_,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.audit import merkle
from panjereh.audit.archive import (
    FORMAT_WITH_PAYLOADS,
    ArchivedCuts,
    ArchiveReport,
    ArchiveWriter,
    Month,
    check_lines,
    payload_line,
    record_line,
    utc_text,
)
from panjereh.audit.chain import GENESIS
from panjereh.audit.checkpoints import Checkpoint
from panjereh.audit.records import AuditRecord, Outcome
from panjereh.audit.verify import Finding, Problem
from panjereh.domain.errors import PanjerehError
from panjereh.domain.events import AuditEvent
from panjereh.storage.archive_cuts import archived_cuts, leaves_across
from panjereh.storage.checkpoints_repo import CheckpointStore
from panjereh.storage.events_repo import ConnectionAuditSink
from panjereh.storage.partitions import KEPT_PREFIX, is_partitioned
from panjereh.storage.tables import audit_archives, audit_payloads, audit_records

_FIELDS = tuple(f.name for f in fields(AuditRecord))
_CHAIN_COLUMNS = frozenset({"id", "shard", "seq", "record_hash"})
# Migration 0006's SQLite trigger, lifted and put back inside the detaching transaction.
_SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_records "
    "refused'); END"
)
# Migration 0009's triggers on audit_payloads, lifted and put back the same way.
_PAYLOADS_TRIGGER_SQLITE = (
    "CREATE TRIGGER audit_payloads_no_delete BEFORE DELETE ON audit_payloads "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_payloads "
    "refused'); END"
)
_PAYLOADS_TRIGGER_POSTGRES = "audit_payloads_append_only"
# The payload columns joined to each record's row, named apart from the records' own.
_PAYLOAD_LABELS = {f"_payload_{c.name}": c for c in audit_payloads.c}


class ArchiveError(PanjerehError):
    """The month cannot be archived or detached as asked; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Detached:
    month: Month
    records: int
    shards: int
    file_sha256: str
    kept_as: str | None
    payloads: int = 0


def _in_month(month: Month) -> ColumnElement[bool]:
    r = audit_records.c
    return and_(r.created_at >= month.start, r.created_at < month.end)


def _line(row: RowMapping) -> bytes:
    values = {name: row[name] for name in _FIELDS}
    values["outcome"] = Outcome(values["outcome"])
    values["cached"] = bool(values["cached"])
    values["format"] = values["format"] or 1  # empty: written before format 2
    extra = {
        k: row[k]
        for k in row
        if k not in _CHAIN_COLUMNS and k not in _FIELDS and k not in _PAYLOAD_LABELS
    }
    return record_line(
        int(row["id"]),
        str(row["shard"]),
        int(row["seq"]),
        str(row["record_hash"]),
        AuditRecord(**values),
        extra,
    )


async def _month_lines(conn: AsyncConnection, month: Month) -> AsyncIterator[bytes]:
    r = audit_records.c
    query = select(audit_records).where(_in_month(month)).order_by(r.shard, r.seq)
    result = await conn.stream(query.execution_options(yield_per=5000))
    async for row in result.mappings():
        yield _line(row)


def _month_exchange_ids(month: Month) -> Select[tuple[str]]:
    return select(audit_records.c.exchange_id).where(_in_month(month))


async def _payload_count(conn: AsyncConnection, month: Month) -> int:
    """How many kept payloads the month's records have."""
    found = await conn.scalar(
        select(func.count())
        .select_from(audit_payloads)
        .where(audit_payloads.c.exchange_id.in_(_month_exchange_ids(month)))
    )
    return int(found or 0)


async def _month_lines_with_payloads(
    conn: AsyncConnection, month: Month
) -> AsyncIterator[tuple[bool, bytes]]:
    """(is a payload, line): each record's line, then its payloads' (request first)."""
    r, p = audit_records.c, audit_payloads.c
    query = (
        select(audit_records, *(c.label(name) for name, c in _PAYLOAD_LABELS.items()))
        .outerjoin(audit_payloads, p.exchange_id == r.exchange_id)
        .where(_in_month(month))
        .order_by(r.shard, r.seq, p.kind)
    )
    result = await conn.stream(query.execution_options(yield_per=5000))
    last: object = None
    async for row in result.mappings():
        if row["id"] != last:
            last = row["id"]
            yield False, _line(row)
        if row["_payload_kind"] is not None:
            yield (
                True,
                payload_line(
                    str(row["_payload_exchange_id"]),
                    str(row["_payload_kind"]),
                    str(row["_payload_key_id"]),
                    bytes(row["_payload_nonce"]),
                    bytes(row["_payload_ciphertext"]),
                ),
            )


async def _hash_at(conn: AsyncConnection, shard: str, seq: int) -> str | None:
    r = audit_records.c
    value = await conn.scalar(select(r.record_hash).where(r.shard == shard, r.seq == seq))
    return None if value is None else str(value)


def check_file(path: Path, public_key_for: Callable[[str], bytes | None]) -> ArchiveReport:
    """Check an archive file (`panjereh.audit.archive.ArchiveChecker`); OSError if unreadable."""
    with path.open("rb") as handle:
        return check_lines(iter(handle), public_key_for)


async def _shard_header(
    conn: AsyncConnection, month: Month
) -> tuple[dict[str, dict[str, Any]], int]:
    r = audit_records.c
    unchained = await conn.scalar(
        select(func.count())
        .select_from(audit_records)
        .where(_in_month(month), or_(r.shard.is_(None), r.seq.is_(None)))
    )
    if unchained:
        raise ArchiveError(
            f"{month} has {unchained} records outside any chain: run `panjereh audit verify`"
        )
    rows = (
        await conn.execute(
            select(r.shard, func.min(r.seq), func.max(r.seq), func.count())
            .where(_in_month(month))
            .group_by(r.shard)
            .order_by(r.shard)
        )
    ).all()
    if not rows:
        raise ArchiveError(f"the live log has no records of {month}")
    cuts = await archived_cuts(conn)
    shards: dict[str, dict[str, Any]] = {}
    for shard, first, last, count in rows:
        if count != last - first + 1:
            raise ArchiveError(
                f"shard {shard}: {last - first + 1 - count} of its records #{first} to #{last} "
                f"are not dated in {month} (a clock set back across the month's end, or "
                "records deleted: run `panjereh audit verify`): the month cannot be cut off "
                "cleanly"
            )
        previous: str | None = GENESIS.hex()
        if first > 1:
            previous = cuts.hash_at(shard, first - 1) or await _hash_at(conn, shard, first - 1)
        head = await _hash_at(conn, shard, last)
        if previous is None or head is None:
            raise ArchiveError(
                f"shard {shard}: the record before #{first} is neither live nor archived: "
                "run `panjereh audit verify`"
            )
        shards[shard] = {
            "first": first,
            "last": last,
            "records": count,
            "previous": previous,
            "head": head,
        }
    return shards, sum(int(s["records"]) for s in shards.values())


def _covering(
    checkpoints: list[Checkpoint], shards: Mapping[str, Mapping[str, Any]], month: Month
) -> list[Checkpoint]:
    chosen = [
        c
        for c in checkpoints
        if any(
            s in shards and a <= shards[s]["last"] and b >= shards[s]["first"]
            for s, (a, b) in c.ranges.items()
        )
    ]
    latest = checkpoints[-1].heads if checkpoints else {}
    for shard, wanted in shards.items():
        if shard not in latest or latest[shard][0] < wanted["last"]:
            raise ArchiveError(
                f"records of {month} (shard {shard}, up to #{wanted['last']}) are in no signed "
                "checkpoint yet: run `panjereh audit checkpoint` first"
            )
    return chosen


async def export_month(
    engine: AsyncEngine,
    month: Month,
    out: Path,
    *,
    key_id: str,
    sign: Callable[[bytes], bytes],
    now: datetime,
    public_key_for: Callable[[str], bytes | None],
) -> ArchiveReport:
    """Write the signed archive of ``month`` to ``out`` (a new file), checked before it is
    kept; ArchiveError (and no file) if the month cannot be archived."""
    if out.exists():
        raise ArchiveError(f"{out} exists already: choose another file")
    partial = out.with_name(f".{out.name}.partial")
    try:
        async with engine.connect() as conn:
            shards, records = await _shard_header(conn, month)
            checkpoints = _covering(await CheckpointStore(engine).all(), shards, month)
            payloads = await _payload_count(conn, month)
            with partial.open("xb") as handle:
                writer = ArchiveWriter(handle.write, payloads=payloads > 0)
                header = {
                    "month": str(month),
                    "from": utc_text(month.start),
                    "until": utc_text(month.end),
                    "created_at": utc_text(now),
                    "records": records,
                    "shards": shards,
                    "checkpoints": [c.number for c in checkpoints],
                }
                writer.header({**header, "payloads": payloads} if payloads else header)
                for checkpoint in checkpoints:
                    writer.checkpoint(checkpoint)
                if payloads:
                    async for is_payload, line in _month_lines_with_payloads(conn, month):
                        (writer.payload if is_payload else writer.record)(line)
                else:
                    async for line in _month_lines(conn, month):
                        writer.record(line)
                writer.finish(key_id, sign)
                handle.flush()
                os.fsync(handle.fileno())
        report = check_file(partial, public_key_for)
        if not report.ok:
            raise ArchiveError(
                f"{month} does not verify, so it is not archived: {report.findings[0].text()}"
            )
        partial.rename(out)
    finally:
        partial.unlink(missing_ok=True)
    return report


@dataclass(frozen=True, slots=True)
class _Live:
    records_sha256: str
    records: int
    payloads_sha256: str
    payloads: int


async def _live_digest(conn: AsyncConnection, month: Month) -> _Live:
    """The digests of the month's live record lines and payload lines, as an archive of it
    holds them."""
    records, payloads = hashlib.sha256(), hashlib.sha256()
    counts = [0, 0]
    async for is_payload, line in _month_lines_with_payloads(conn, month):
        (payloads if is_payload else records).update(line)
        counts[is_payload] += 1
    return _Live(records.hexdigest(), counts[0], payloads.hexdigest(), counts[1])


def _check_payloads(report: ArchiveReport, live: _Live, month: Month) -> None:
    if report.format != FORMAT_WITH_PAYLOADS:
        if live.payloads:
            raise ArchiveError(
                f"the archive (format {report.format}) holds no kept payloads and {month}'s "
                f"records have {live.payloads}: make a new archive"
            )
        return
    if live.payloads_sha256 != report.payloads_sha256 or live.payloads != report.payloads:
        raise ArchiveError(
            f"the archive does not match the kept payloads of {month} ({live.payloads} live, "
            f"{report.payloads} archived): make a new archive"
        )


async def _check_cut(conn: AsyncConnection, report: ArchiveReport) -> None:
    """Each shard's archived records follow the previous archive's (or start at #1), and no
    live record of the shard outside the month comes before the cut."""
    assert report.month is not None  # noqa: S101 - a verified report has one
    cuts = await archived_cuts(conn)
    r = audit_records.c
    for shard, wanted in sorted(report.shards.items()):
        cut = cuts.cuts.get(shard, (0, GENESIS.hex()))
        if wanted.first != cut[0] + 1 or wanted.previous != cut[1]:
            raise ArchiveError(
                f"shard {shard}: records #{cut[0] + 1} to #{wanted.first - 1} are still in the "
                "live log (an earlier month): archive and detach that month first"
            )
        before = await conn.scalar(
            select(func.count())
            .select_from(audit_records)
            .where(r.shard == shard, r.seq <= wanted.last, ~_in_month(report.month))
        )
        if before:
            raise ArchiveError(
                f"shard {shard}: {before} live records of another month come before #"
                f"{wanted.last}, the last one archived: this month cannot be cut off cleanly"
            )


async def _archive_row(
    conn: AsyncConnection, report: ArchiveReport, kept_as: str | None, now: datetime
) -> None:
    await conn.execute(
        insert(audit_archives).values(
            month=str(report.month),
            file_sha256=report.sha256,
            records=report.records,
            ranges={s: [v.first, v.last] for s, v in report.shards.items()},
            cuts={s: [v.last, v.head] for s, v in report.shards.items()},
            boundary={
                s: {str(seq): h for seq, h in sorted(hashes.items())}
                for s, hashes in report.boundary.items()
            },
            key_id=report.key_id,
            signature=report.signature,
            kept_as=kept_as,
            detached_at=now,
        )
    )


def kept_name(month: Month) -> str:
    """The plain table a month detached with ``--keep`` stays in (PostgreSQL)."""
    return f"{KEPT_PREFIX}{month.year:04d}m{month.month:02d}"


def kept_payloads_name(month: Month) -> str:
    """The plain table a month's kept payloads stay in with ``--keep`` (PostgreSQL)."""
    return f"{kept_name(month)}_payloads"


async def _detach_payloads(
    conn: AsyncConnection, month: Month, payloads: int, *, postgres: bool, kept: str | None
) -> None:
    """Delete the kept payloads of ``month``'s records (still live) from audit_payloads, past
    its append-only trigger lifted for this transaction only; with ``kept`` (PostgreSQL,
    ``--keep``) copy them first into a plain append-only table beside the month's records."""
    if not payloads:
        if await _payload_count(conn, month):
            raise ArchiveError(f"{month} gained kept payloads while detaching: try again")
        return
    if postgres and kept is not None:
        table = kept_payloads_name(month)
        await conn.exec_driver_sql(f"CREATE TABLE {table} (LIKE audit_payloads INCLUDING ALL)")
        await conn.execute(
            text(
                f"INSERT INTO {table} SELECT * FROM audit_payloads WHERE exchange_id IN "  # noqa: S608 - constant names
                f"(SELECT exchange_id FROM {month.partition})"
            )
        )
        await conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION panjereh_audit_append_only()"
        )
    if postgres:
        trigger = _PAYLOADS_TRIGGER_POSTGRES
        await conn.exec_driver_sql(f"ALTER TABLE audit_payloads DISABLE TRIGGER {trigger}")
    else:
        await conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_payloads_no_delete")
    deleted = await conn.execute(
        audit_payloads.delete().where(audit_payloads.c.exchange_id.in_(_month_exchange_ids(month)))
    )
    if deleted.rowcount != payloads:
        raise ArchiveError(
            f"{month}'s kept payloads changed while detaching ({deleted.rowcount}): try again"
        )
    if postgres:
        await conn.exec_driver_sql(f"ALTER TABLE audit_payloads ENABLE TRIGGER {trigger}")
    else:
        await conn.exec_driver_sql(_PAYLOADS_TRIGGER_SQLITE)


async def _detach_postgres(
    conn: AsyncConnection, month: Month, records: int, *, kept: str | None
) -> None:
    await conn.exec_driver_sql(f"ALTER TABLE audit_records DETACH PARTITION {month.partition}")
    found = await conn.scalar(text(f"SELECT count(*) FROM {month.partition}"))  # noqa: S608
    if found != records:
        raise ArchiveError(f"{month} changed while detaching ({found} rows): try again")
    if kept is None:
        await conn.exec_driver_sql(f"DROP TABLE {month.partition}")
        return
    await conn.exec_driver_sql(f"ALTER TABLE {month.partition} RENAME TO {kept}")
    await conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS audit_records_append_only ON {kept}")
    await conn.exec_driver_sql(
        f"CREATE TRIGGER {kept}_append_only BEFORE UPDATE OR DELETE ON {kept} "
        "FOR EACH ROW EXECUTE FUNCTION panjereh_audit_append_only()"
    )


async def _detach_sqlite(conn: AsyncConnection, month: Month, records: int) -> None:
    await conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_records_no_delete")
    deleted = await conn.execute(audit_records.delete().where(_in_month(month)))
    if deleted.rowcount != records:
        raise ArchiveError(f"{month} changed while detaching ({deleted.rowcount} rows): try again")
    await conn.exec_driver_sql(_SQLITE_TRIGGER)


async def detach_month(
    engine: AsyncEngine,
    month: Month,
    archive: Path,
    *,
    keep: bool,
    actor: str,
    reason: str,
    now: datetime,
    public_key_for: Callable[[str], bytes | None],
) -> Detached:
    """Take ``month`` out of the live log, recording its archive; ArchiveError (and nothing
    changed) unless the archive verifies and holds exactly the month's live rows."""
    try:
        report = check_file(archive, public_key_for)
    except OSError as exc:
        raise ArchiveError(f"{archive}: cannot read it ({exc.__class__.__name__})") from None
    if not report.ok:
        raise ArchiveError(f"the archive does not verify: {report.findings[0].text()}")
    if report.month != month:
        raise ArchiveError(f"the archive is of {report.month}, not of {month}")
    if month.end > now:
        raise ArchiveError(f"{month} is not over yet: only past months can be detached")
    async with engine.connect() as conn:
        postgres = await is_partitioned(conn)
        if keep and not postgres:
            raise ArchiveError(
                "--keep needs PostgreSQL's partitions: SQLite keeps one table, and detaching "
                "deletes the month's rows from it"
            )
        if await conn.scalar(
            select(audit_archives.c.id).where(audit_archives.c.month == str(month))
        ):
            raise ArchiveError(f"{month} was archived and detached already")
        live = await _live_digest(conn, month)
        if live.records_sha256 != report.records_sha256 or live.records != report.records:
            raise ArchiveError(
                f"the archive does not match the live records of {month} ({live.records} "
                f"live, {report.records} archived): make a new archive"
            )
        _check_payloads(report, live, month)
        await _check_cut(conn, report)
    kept = kept_name(month) if keep else None
    async with engine.begin() as conn:
        # On SQLite a DML statement first, so the trigger's DROP/CREATE are in the transaction.
        await _archive_row(conn, report, kept, now)
        await _detach_payloads(conn, month, report.payloads, postgres=postgres, kept=kept)
        if postgres:
            await _detach_postgres(conn, month, report.records, kept=kept)
        else:
            await _detach_sqlite(conn, month, report.records)
        await ConnectionAuditSink(conn).emit(
            AuditEvent(
                at=now,
                actor=actor,
                action="audit.detach",
                object_type="audit-archive",
                object_id=str(month),
                reason=reason,
                before=None,
                after={
                    "records": report.records,
                    "shards": len(report.shards),
                    "file_sha256": report.sha256,
                    "kept_as": kept,
                    "payloads": report.payloads,
                },
            )
        )
    return Detached(month, report.records, len(report.shards), report.sha256, kept, report.payloads)


async def check_across_cuts(
    engine: AsyncEngine, checkpoints: list[Checkpoint], cuts: ArchivedCuts
) -> list[Finding]:
    """The Merkle roots of checkpoints reaching across a cut (records partly archived,
    partly live), from the live records and the chain hashes of the archived ones kept for
    exactly this in ``audit_archives.boundary``.  The rest of a checkpoint (signature, link,
    pinned heads) is checked by `verify_log` with the cuts as its starts."""
    found: list[Finding] = []
    store = CheckpointStore(engine)
    for checkpoint in sorted(checkpoints, key=lambda c: c.number):
        leaves = await leaves_across(store, checkpoint.ranges, cuts)
        if len(leaves) != checkpoint.tree_size or merkle.root(leaves).hex() != (
            checkpoint.merkle_root
        ):
            found.append(
                Finding(
                    Problem.MERKLE,
                    None,
                    None,
                    None,
                    f"checkpoint {checkpoint.number}: its {checkpoint.tree_size} records, "
                    f"archived and live, no longer give its Merkle root ({len(leaves)} found)",
                )
            )
    return found
