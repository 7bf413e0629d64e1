"""The audit store: batched inserts of audit records, and the reads tests and views need.

Appends are the hot path of the whole exchange (one row per inquiry, thousands a second), so
they skip SQLAlchemy: on SQLite a dedicated thread with its own ``sqlite3`` connection runs a few
multi-row INSERTs per batch inside one transaction (``synchronous=FULL``); on
PostgreSQL one ``COPY`` per batch over an asyncpg connection.  Both are one transaction: a
batch is stored whole or not at all.  Reads go through the SQLAlchemy engine as usual.

The kept bodies of services that keep payloads (`panjereh.audit.payloads`) are sealed here and
written to ``audit_payloads`` in the same transaction as their batch; a batch without any
takes exactly the path it took before.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import sqlite3
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
from sqlalchemy import RowMapping, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.audit.archive import Month
from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
from panjereh.audit.heads import SignedHead, SignerSource
from panjereh.audit.payloads import KeptPayloads, PayloadKeys, PayloadKind, SealedPayload
from panjereh.audit.publish import Publications, head_document
from panjereh.audit.records import AuditRecord, Outcome
from panjereh.audit.verify import StoredRecord
from panjereh.domain.clock import Clock
from panjereh.domain.ids import IdMaker
from panjereh.storage.engine import StorageError
from panjereh.storage.partitions import NO_PARTITION, partition_ddl
from panjereh.storage.tables import (
    audit_heads,
    audit_leases,
    audit_payloads,
    audit_records,
    audit_shards,
)

log = logging.getLogger(__name__)

COLUMNS = (
    "exchange_id",
    "created_at",
    "consumer",
    "service_id",
    "purpose",
    "subject_hash",
    "outcome",
    "status_code",
    "error_type",
    "duration_ms",
    "request_hash",
    "response_hash",
    "request_id",
    "auth_method",
    "replay_of",
    "cached",
    "provider_ms",
    "format",
    "context",
    "request_bytes",
    "response_bytes",
    "operation",
    "projection_id",
    "shard",
    "seq",
    "record_hash",
)
_SQLITE_SHARD = (
    "INSERT INTO audit_shards (id, started_at, host, pid, signs_heads) VALUES (?, ?, ?, ?, ?)"
)
_POSTGRES_SHARD = (
    "INSERT INTO audit_shards (id, started_at, host, pid, signs_heads) VALUES ($1, $2, $3, $4, $5)"
)
_SQLITE_LEASE = "INSERT INTO audit_leases (shard, heartbeat_at) VALUES (?, ?)"
_POSTGRES_LEASE = "INSERT INTO audit_leases (shard, heartbeat_at) VALUES ($1, $2)"
HEAD_COLUMNS = ("shard", "seq", "head", "created_at", "closing", "closed_by", "key_id", "signature")
_SQLITE_HEAD = (
    f"INSERT INTO audit_heads ({', '.join(HEAD_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608 - constant names
)
PAYLOAD_COLUMNS = ("exchange_id", "kind", "key_id", "nonce", "ciphertext")
_SQLITE_PAYLOAD = (
    f"INSERT INTO audit_payloads ({', '.join(PAYLOAD_COLUMNS)}) VALUES (?, ?, ?, ?, ?)"  # noqa: S608 - constant names
)
CACHE_KIB = 131_072  # the writer's page cache: 128 MiB keeps the indexes' hot pages in memory
_CHUNKS = (1024, 256, 64, 16, 4, 1)  # rows per INSERT: a few statements, each prepared once


@functools.cache
def _sqlite_insert(rows: int) -> str:
    """``INSERT ... VALUES (?, ...), (?, ...)`` for ``rows`` rows (26 parameters each; SQLite
    takes up to 32,766)."""
    one = f"({', '.join('?' for _ in COLUMNS)})"
    return (
        f"INSERT INTO audit_records ({', '.join(COLUMNS)}) "  # noqa: S608 - constant names
        f"VALUES {', '.join(one for _ in range(rows))}"
    )


def _row(r: AuditRecord, created_at: Any, shard: str, seq: int, digest: str) -> tuple[Any, ...]:
    return (
        r.exchange_id,
        created_at,
        r.consumer,
        r.service_id,
        r.purpose,
        r.subject_hash,
        r.outcome,  # a StrEnum: both drivers take it as its text
        r.status_code,
        r.error_type,
        r.duration_ms,
        r.request_hash,
        r.response_hash,
        r.request_id,
        r.auth_method,
        r.replay_of,
        r.cached,
        r.provider_ms,
        r.format,
        r.context,
        r.request_bytes,
        r.response_bytes,
        r.operation,
        r.projection_id,
        shard,
        seq,
        digest,
    )


@dataclass(frozen=True, slots=True)
class HeadPolicy:
    """How the writer signs its shard's head (docs/audit-log.md, "Signed heads")."""

    signer: SignerSource  # the exchange's active key id and its signing function
    clock: Clock
    seconds: float = 0.25  # PANJEREH_AUDIT_HEAD_SECONDS
    lease_seconds: float = 15.0  # PANJEREH_AUDIT_LEASE_SECONDS: a writer silent longer is gone
    publications: Publications | None = None  # where each signed head is published

    def sign(self, head: SignedHead) -> SignedHead:
        key_id, sign = self.signer()
        return head.signed(key_id, sign)


class _Chain:
    """This writer's shard (docs/audit-log.md): its id and the last sequence number and head
    hash committed.  A batch is linked first and advanced only once it is stored, so a batch
    that failed leaves no gap and no dangling hash.

    The writer hands a batch over while the one before is still being stored (at most two
    in flight), so a batch is linked from the *tip* (the end of the last batch linked) and
    checked when its turn comes: if the batch before failed, it is linked again from the
    committed head."""

    def __init__(self, policy: HeadPolicy | None = None) -> None:
        self.shard = _SHARD_IDS()
        self.started_at = policy.clock.now() if policy is not None else datetime.now(UTC)
        self.seq = 0
        self.head = GENESIS
        self.tip = (0, GENESIS)
        self.registered = False  # its audit_shards row is written with its first batch
        self.turn = asyncio.Lock()  # batches are stored one after the other, in call order
        self.signed = 0  # the last sequence number this writer signed a head for
        self.signed_at: datetime | None = None  # when (the policy's clock)
        self.heartbeat_at: datetime | None = None
        self.closed = False

    def due_head(
        self, policy: HeadPolicy | None, seq: int, head: bytes, *, closing: bool = False
    ) -> SignedHead | None:
        """The signed head of ``seq`` if one is due: the interval passed since the last one
        (or none was signed yet), or the shard closes; None without a policy."""
        if policy is None or (seq <= self.signed and not closing):
            return None
        now = policy.clock.now()
        if (
            not closing
            and self.signed_at is not None
            and (now - self.signed_at).total_seconds() < policy.seconds
        ):
            return None
        return policy.sign(SignedHead(self.shard, seq, head.hex(), now, closing=closing))

    def vouched(self, head: SignedHead) -> None:
        self.signed, self.signed_at = head.seq, head.created_at

    def link(self, records: Sequence[AuditRecord]) -> _Links:
        """Link ``records`` after the last batch linked (committed or not)."""
        links = self._link(records, *self.tip)
        self.tip = (links.seq, links.head)
        return links

    def relinked(self, records: Sequence[AuditRecord], links: _Links) -> _Links:
        """``links`` if they follow the committed head (call it holding `turn`), else the
        records linked again from there (the batch before failed)."""
        if links.base == (self.seq, self.head):
            return links
        links = self._link(records, self.seq, self.head)
        self.tip = (links.seq, links.head)
        return links

    def _link(self, records: Sequence[AuditRecord], seq: int, head: bytes) -> _Links:
        base, shard, hashes = (seq, head), self.shard, []
        for record in records:
            seq += 1
            head = chain_hash(head, canonical_bytes(record, shard, seq))
            hashes.append((seq, head.hex()))
        return _Links(base, hashes, seq, head)

    def advance(self, links: _Links) -> None:
        self.seq, self.head, self.registered = links.seq, links.head, True

    def shard_row(self, started_at: Any, signs: bool) -> tuple[Any, ...] | None:
        if self.registered:
            return None
        return (self.shard, started_at, socket.gethostname()[:120], os.getpid(), signs)


@dataclass(frozen=True, slots=True)
class _Links:
    base: tuple[int, bytes]  # the (seq, head) the batch was linked after
    hashes: list[tuple[int, str]]  # per record: its seq and record_hash (hex)
    seq: int  # the batch's last
    head: bytes


_SHARD_IDS = IdMaker()
_NOT_RECORD_FIELDS = frozenset({"id", "shard", "seq", "record_hash"})  # the store's columns


def _sqlite_time(moment: datetime) -> str:
    # SQLAlchemy's SQLite format for a UTC column: naive ISO text with microseconds (the
    # first 26 characters of the UTC time's ISO form, before its "+00:00").
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(sep=" ", timespec="microseconds")[:26]


_PayloadRow = tuple[str, str, str, bytes, bytes]  # PAYLOAD_COLUMNS


class _Appender(Protocol):
    chain: _Chain
    policy: HeadPolicy | None

    async def append(
        self, records: Sequence[AuditRecord], payloads: Sequence[_PayloadRow] = ()
    ) -> SignedHead | None: ...

    async def close(self) -> None: ...


class _SqliteAppender:
    """One thread, one connection, one transaction per batch; checkpoints off that path.

    SQLite's automatic WAL checkpoint runs inside the commit that crosses its threshold, so
    every ~1,000 pages one batch (and every inquiry waiting on it) would also wait for pages
    to be copied into the database file and fsynced: the exchange's p99.  The writer's
    connection turns it off, and a second thread with its own connection runs a PASSIVE
    checkpoint (it never blocks the writer) every ``checkpoint_seconds`` while records come.
    """

    def __init__(
        self, path: str, *, policy: HeadPolicy | None = None, checkpoint_seconds: float = 0.1
    ) -> None:
        self._path = path
        self.chain = _Chain(policy)
        self.policy = policy
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._checkpoint_seconds = checkpoint_seconds
        self._written = threading.Event()  # set by each batch, cleared by each checkpoint
        self._stopping = threading.Event()
        self._checkpointer: threading.Thread | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            if self._path != ":memory:":
                conn.execute("PRAGMA wal_autocheckpoint=0")
                self._start_checkpointer()
            self._conn = conn
        return self._conn

    def _start_checkpointer(self) -> None:
        if self._checkpointer is None:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_forever, name="audit-sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint_forever(self) -> None:
        conn = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            while not self._stopping.wait(self._checkpoint_seconds):
                if self._written.is_set():
                    self._written.clear()
                    self._checkpoint(conn)
            self._checkpoint(conn)
        finally:
            conn.close()

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:  # the next round tries again; the records are in the WAL
            log.warning("audit WAL checkpoint failed: %s", exc.__class__.__name__)

    def _write(
        self,
        rows: list[tuple[Any, ...]],
        shard: tuple[Any, ...] | None,
        payloads: Sequence[_PayloadRow],
        head: tuple[Any, ...] | None = None,
    ) -> None:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if shard is not None:
                conn.execute(_SQLITE_SHARD, shard)
                conn.execute(_SQLITE_LEASE, (shard[0], shard[1]))
            # Multi-row INSERTs of a few fixed sizes, not executemany: executemany runs one
            # sqlite3_step per row and takes the GIL back after each, so under load the writer
            # thread queued for the GIL behind the event loop once per record.
            at = 0
            while at < len(rows):
                size = next(n for n in _CHUNKS if n <= len(rows) - at)
                chunk = rows[at : at + size]
                conn.execute(_sqlite_insert(size), [value for row in chunk for value in row])
                at += size
            if payloads:
                conn.executemany(_SQLITE_PAYLOAD, payloads)
            if head is not None:
                conn.execute(_SQLITE_HEAD, head)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._written.set()

    async def append(
        self, records: Sequence[AuditRecord], payloads: Sequence[_PayloadRow] = ()
    ) -> SignedHead | None:
        chain = self.chain
        times = [_sqlite_time(r.created_at) for r in records]
        links = chain.link(records)
        async with chain.turn:
            links = chain.relinked(records, links)
            rows = [
                _row(r, at, chain.shard, n, digest)
                for r, at, (n, digest) in zip(records, times, links.hashes, strict=True)
            ]
            shard = chain.shard_row(_sqlite_time(chain.started_at), self.policy is not None)
            head = chain.due_head(self.policy, links.seq, links.head)
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(
                    self._executor, self._write, rows, shard, payloads, sqlite_head_row(head)
                )
            except sqlite3.Error as exc:
                raise StorageError(f"audit batch not stored: {exc.__class__.__name__}") from exc
            chain.advance(links)
            if head is not None:
                chain.vouched(head)
            return head

    def _close(self) -> None:
        self._stopping.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
            self._checkpointer = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)


class _PostgresAppender:
    """One COPY per batch over a connection of its own."""

    def __init__(self, dsn: str, *, policy: HeadPolicy | None = None) -> None:
        self._dsn = dsn
        self._conn: Any = None
        self.chain = _Chain(policy)
        self.policy = policy

    async def append(
        self, records: Sequence[AuditRecord], payloads: Sequence[_PayloadRow] = ()
    ) -> SignedHead | None:
        chain = self.chain
        links = chain.link(records)
        async with chain.turn:
            links = chain.relinked(records, links)
            head = chain.due_head(self.policy, links.seq, links.head)
            await self._store(records, links, payloads, head)
            chain.advance(links)
            if head is not None:
                chain.vouched(head)
            return head

    async def _store(
        self,
        records: Sequence[AuditRecord],
        links: _Links,
        payloads: Sequence[_PayloadRow],
        head: SignedHead | None,
    ) -> None:
        chain = self.chain
        rows = [
            _row(r, r.created_at, chain.shard, n, digest)
            for r, (n, digest) in zip(records, links.hashes, strict=True)
        ]
        shard = chain.shard_row(chain.started_at, self.policy is not None)
        heads = [] if head is None else [head_row(head)]
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(self._dsn, timeout=10)
            try:
                await self._copy(rows, shard, payloads, heads)
            except asyncpg.CheckViolationError as exc:
                if NO_PARTITION not in str(exc):
                    raise
                # A month without its partition (the runtime makes them ahead; a clock far
                # off, or a first record after a long pause): make it and store the batch.
                for month in sorted({Month.of(r.created_at) for r in records}):
                    await self._conn.execute(partition_ddl(month))
                await self._copy(rows, shard, payloads, heads)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            await self._drop()
            raise StorageError(f"audit batch not stored: {exc.__class__.__name__}") from exc

    async def _copy(
        self,
        rows: list[tuple[Any, ...]],
        shard: tuple[Any, ...] | None,
        payloads: Sequence[_PayloadRow],
        heads: list[tuple[Any, ...]],
    ) -> None:
        async with self._conn.transaction():
            if shard is not None:
                await self._conn.execute(_POSTGRES_SHARD, *shard)
                await self._conn.execute(_POSTGRES_LEASE, shard[0], shard[1])
            await self._conn.copy_records_to_table("audit_records", records=rows, columns=COLUMNS)
            if payloads:
                await self._conn.copy_records_to_table(
                    "audit_payloads", records=payloads, columns=PAYLOAD_COLUMNS
                )
            if heads:
                await self._conn.copy_records_to_table(
                    "audit_heads", records=heads, columns=HEAD_COLUMNS
                )

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            await conn.close()


def head_row(head: SignedHead) -> tuple[Any, ...]:
    """``head`` as an audit_heads row (`HEAD_COLUMNS`)."""
    return (
        head.shard,
        head.seq,
        head.head,
        head.created_at,
        head.closing,
        head.closed_by,
        head.key_id,
        head.signature,
    )


def sqlite_head_row(head: SignedHead | None) -> tuple[Any, ...] | None:
    if head is None:
        return None
    row = head_row(head)
    return (*row[:3], _sqlite_time(head.created_at), *row[4:])


def _appender(engine: AsyncEngine, policy: HeadPolicy | None) -> _Appender:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return _SqliteAppender(url.database or ":memory:", policy=policy)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return _PostgresAppender(dsn, policy=policy)


async def read_sealed_payloads(conn: AsyncConnection, exchange_id: str) -> list[SealedPayload]:
    """The kept bodies of one inquiry as stored (request first); empty if none."""
    columns = audit_payloads.c
    query = (
        select(audit_payloads)
        .where(columns.exchange_id == exchange_id)
        .order_by(columns.kind)  # "request" < "response"
    )
    rows = (await conn.execute(query)).mappings().all()
    return [
        SealedPayload(
            row["exchange_id"],
            PayloadKind(row["kind"]),
            row["key_id"],
            bytes(row["nonce"]),
            bytes(row["ciphertext"]),
        )
        for row in rows
    ]


def record_from_row(row: RowMapping | Mapping[str, Any]) -> AuditRecord:
    """The record an ``audit_records`` row holds (without the store's own columns)."""
    values = {key: row[key] for key in row if key not in _NOT_RECORD_FIELDS}
    values["outcome"] = Outcome(values["outcome"])
    values["cached"] = bool(values["cached"])
    values["format"] = values.get("format") or 1  # empty: written before format 2
    return AuditRecord(**values)


class SqlAuditStore:
    """Implements `panjereh.audit.writer.AuditStore` (and `PayloadStore` when given payload
    keys): one transaction per batch.  With a `HeadPolicy` the writer signs its shard's head
    (`panjereh.audit.heads`): in a batch's transaction when due, on `tick` for a tail that
    waited, and a closing head on `close_shard`."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        payload_keys: PayloadKeys | None = None,
        heads: HeadPolicy | None = None,
    ) -> None:
        self._engine = engine
        self._appender = _appender(engine, heads)
        self.payload_keys = payload_keys
        self.heads = heads

    @property
    def shard(self) -> str:
        return self._appender.chain.shard

    def committed_head(self) -> tuple[str, int, str] | None:
        """This writer's shard, last committed sequence number and head (hex); None before
        its first record."""
        chain = self._appender.chain
        return None if chain.seq == 0 else (chain.shard, chain.seq, chain.head.hex())

    async def append(self, records: Sequence[AuditRecord]) -> None:
        await self._published(await self._appender.append(records))

    async def _published(self, head: SignedHead | None) -> None:
        if head is not None and self.heads is not None and self.heads.publications is not None:
            await self.heads.publications.publish([head_document(head)])

    def head_due_in(self) -> float:
        """Seconds until `tick` has something to do (a tail to sign, a heartbeat)."""
        policy, chain = self.heads, self._appender.chain
        if policy is None:
            return 3600.0
        now = policy.clock.now()
        beat = policy.lease_seconds / 3
        if chain.heartbeat_at is not None:
            beat -= (now - chain.heartbeat_at).total_seconds()
        if chain.seq > chain.signed and chain.signed_at is not None:
            return max(0.0, min(beat, policy.seconds - (now - chain.signed_at).total_seconds()))
        return max(0.0, min(beat, policy.seconds))

    async def tick(self) -> SignedHead | None:
        """Sign the committed tail if its head is due, and renew the lease when due."""
        policy, chain = self.heads, self._appender.chain
        if policy is None or not chain.registered or chain.closed:
            return None
        async with chain.turn:
            head = chain.due_head(policy, chain.seq, chain.head)
            now = policy.clock.now()
            beat = chain.heartbeat_at is None or (
                (now - chain.heartbeat_at).total_seconds() >= policy.lease_seconds / 3
            )
            if head is None and not beat:
                return None
            async with self._engine.begin() as conn:
                if head is not None:
                    await conn.execute(audit_heads.insert().values(**_head_values(head)))
                if beat:
                    await _renew(conn, chain.shard, now)
            if head is not None:
                chain.vouched(head)
            if beat:
                chain.heartbeat_at = now
        await self._published(head)
        return head

    async def close_shard(self) -> SignedHead | None:
        """Sign and store this shard's closing head (graceful shutdown); None if the shard
        has no record or no policy.  Nothing is appended to it after."""
        policy, chain = self.heads, self._appender.chain
        if policy is None or not chain.registered or chain.closed:
            return None
        async with chain.turn:
            head = chain.due_head(policy, chain.seq, chain.head, closing=True)
            assert head is not None  # noqa: S101 - a closing head is always due
            async with self._engine.begin() as conn:
                await conn.execute(audit_heads.insert().values(**_head_values(head)))
                await conn.execute(audit_leases.delete().where(audit_leases.c.shard == chain.shard))
            chain.vouched(head)
            chain.closed = True
        await self._published(head)
        return head

    async def close_gone(self) -> list[SignedHead]:
        """Close the shards of writers that are gone (their lease older than
        ``lease_seconds``, no closing head): each from its last signed head, signed by this
        writer's key and naming it in ``closed_by``.  Records after that head stay where
        they are, and `panjereh audit verify` names them: they are not adopted."""
        policy = self.heads
        if policy is None:
            return []
        now = policy.clock.now()
        closed: list[SignedHead] = []
        for shard, (seq, head) in (await gone_shards(self._engine, now, policy)).items():
            closing = policy.sign(
                SignedHead(shard, seq, head, now, closing=True, closed_by=self.shard)
            )
            async with self._engine.begin() as conn:
                await conn.execute(audit_heads.insert().values(**_head_values(closing)))
                await conn.execute(audit_leases.delete().where(audit_leases.c.shard == shard))
            log.warning("audit shard %s closed at #%d: its writer is gone", shard, seq)
            closed.append(closing)
        if closed and policy.publications is not None:
            await policy.publications.publish([head_document(h) for h in closed])
        return closed

    async def append_with_payloads(
        self, records: Sequence[AuditRecord], payloads: Sequence[KeptPayloads]
    ) -> None:
        """The records and the sealed bodies of those that kept them, in one transaction."""
        keys = self.payload_keys
        if keys is None:  # never stored in clear
            raise StorageError("audit batch not stored: no payload key is configured")
        rows: list[_PayloadRow] = []
        for kept in payloads:
            for sealed in keys.seal_both(kept):
                rows.append(
                    (
                        sealed.exchange_id,
                        sealed.kind.value,
                        sealed.key_id,
                        sealed.nonce,
                        sealed.ciphertext,
                    )
                )
        await self._published(await self._appender.append(records, rows))

    async def sealed_payloads(self, exchange_id: str) -> list[SealedPayload]:
        """The kept bodies of one inquiry as stored (request first); empty if none."""
        async with self._engine.connect() as conn:
            return await read_sealed_payloads(conn, exchange_id)

    async def close(self) -> None:
        await self._appender.close()

    async def by_exchange_id(self, exchange_id: str) -> AuditRecord | None:
        async with self._engine.connect() as conn:
            query = select(audit_records).where(audit_records.c.exchange_id == exchange_id)
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else record_from_row(row)

    async def stored_records(self) -> AsyncIterator[StoredRecord]:
        """Every record with its place in the chains, ordered by shard and sequence (records
        without one, if any, come together), streamed: the log may not fit in memory."""
        columns = audit_records.c
        query = select(audit_records).order_by(columns.shard, columns.seq, columns.id)
        async with self._engine.connect() as conn:
            result = await conn.stream(query.execution_options(yield_per=5000))
            async for row in result.mappings():
                yield StoredRecord(
                    record_from_row(row), row["shard"], row["seq"], row["record_hash"], row["id"]
                )

    async def registered_shards(self) -> list[str]:
        async with self._engine.connect() as conn:
            return list((await conn.execute(select(audit_shards.c.id))).scalars())

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(audit_records)) or 0)


def _head_values(head: SignedHead) -> dict[str, Any]:
    return dict(zip(HEAD_COLUMNS, head_row(head), strict=True))


async def _renew(conn: AsyncConnection, shard: str, now: datetime) -> None:
    c = audit_leases.c
    done = await conn.execute(
        audit_leases.update().where(c.shard == shard).values(heartbeat_at=now)
    )
    if not done.rowcount:
        await conn.execute(audit_leases.insert().values(shard=shard, heartbeat_at=now))


async def last_signed_heads(conn: AsyncConnection) -> dict[str, SignedHead]:
    """Each shard's last signed head as stored (a closing one wins at the same number)."""
    query = select(audit_heads).order_by(audit_heads.c.seq, audit_heads.c.closing, audit_heads.c.id)
    found: dict[str, SignedHead] = {}
    for row in (await conn.execute(query)).mappings():
        found[str(row["shard"])] = head_from_row(row)
    return found


def head_from_row(row: RowMapping | Mapping[str, Any]) -> SignedHead:
    return SignedHead(
        shard=str(row["shard"]),
        seq=int(row["seq"]),
        head=str(row["head"]),
        created_at=row["created_at"],
        closing=bool(row["closing"]),
        closed_by=row["closed_by"],
        key_id=str(row["key_id"]),
        signature=str(row["signature"]),
    )


async def gone_shards(
    engine: AsyncEngine, now: datetime, policy: HeadPolicy
) -> dict[str, tuple[int, str]]:
    """The signing shards whose writer is gone and that no closing head closed: shard ->
    (seq, head hex) of its last signed head (0 and 64 zeros if it never signed one)."""
    s, leases = audit_shards.c, audit_leases.c
    async with engine.connect() as conn:
        signing = (await conn.execute(select(s.id, s.started_at).where(s.signs_heads))).all()
        beats = dict((await conn.execute(select(leases.shard, leases.heartbeat_at))).all())
        heads = await last_signed_heads(conn)
    found: dict[str, tuple[int, str]] = {}
    for shard, started_at in signing:
        last = heads.get(shard)
        if last is not None and last.closing:
            continue
        seen = beats.get(shard, started_at)
        if (now - seen).total_seconds() <= policy.lease_seconds:
            continue
        found[shard] = (last.seq, last.head) if last is not None else (0, GENESIS.hex())
    return found
