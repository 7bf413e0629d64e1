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
from panjereh.audit.payloads import KeptPayloads, PayloadKeys, PayloadKind, SealedPayload
from panjereh.audit.records import AuditRecord, Outcome
from panjereh.audit.verify import StoredRecord
from panjereh.domain.ids import IdMaker
from panjereh.storage.engine import StorageError
from panjereh.storage.partitions import NO_PARTITION, partition_ddl
from panjereh.storage.tables import audit_payloads, audit_records, audit_shards

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
_SQLITE_SHARD = "INSERT INTO audit_shards (id, started_at, host, pid) VALUES (?, ?, ?, ?)"
_POSTGRES_SHARD = "INSERT INTO audit_shards (id, started_at, host, pid) VALUES ($1, $2, $3, $4)"
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


class _Chain:
    """This writer's shard (docs/audit-log.md): its id and the last sequence number and head
    hash committed.  A batch is linked first and advanced only once it is stored, so a batch
    that failed leaves no gap and no dangling hash.

    The writer hands a batch over while the one before is still being stored (at most two
    in flight), so a batch is linked from the *tip* (the end of the last batch linked) and
    checked when its turn comes: if the batch before failed, it is linked again from the
    committed head."""

    def __init__(self) -> None:
        self.shard = _SHARD_IDS()
        self.started_at = datetime.now(UTC)
        self.seq = 0
        self.head = GENESIS
        self.tip = (0, GENESIS)
        self.registered = False  # its audit_shards row is written with its first batch
        self.turn = asyncio.Lock()  # batches are stored one after the other, in call order

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

    def shard_row(self, started_at: Any) -> tuple[Any, ...] | None:
        if self.registered:
            return None
        return (self.shard, started_at, socket.gethostname()[:120], os.getpid())


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
    async def append(
        self, records: Sequence[AuditRecord], payloads: Sequence[_PayloadRow] = ()
    ) -> None: ...

    async def close(self) -> None: ...


class _SqliteAppender:
    """One thread, one connection, one transaction per batch; checkpoints off that path.

    SQLite's automatic WAL checkpoint runs inside the commit that crosses its threshold, so
    every ~1,000 pages one batch (and every inquiry waiting on it) would also wait for pages
    to be copied into the database file and fsynced: the exchange's p99.  The writer's
    connection turns it off, and a second thread with its own connection runs a PASSIVE
    checkpoint (it never blocks the writer) every ``checkpoint_seconds`` while records come.
    """

    def __init__(self, path: str, *, checkpoint_seconds: float = 0.1) -> None:
        self._path = path
        self._chain = _Chain()
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
    ) -> None:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if shard is not None:
                conn.execute(_SQLITE_SHARD, shard)
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
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._written.set()

    async def append(
        self, records: Sequence[AuditRecord], payloads: Sequence[_PayloadRow] = ()
    ) -> None:
        chain = self._chain
        times = [_sqlite_time(r.created_at) for r in records]
        links = chain.link(records)
        async with chain.turn:
            links = chain.relinked(records, links)
            rows = [
                _row(r, at, chain.shard, n, digest)
                for r, at, (n, digest) in zip(records, times, links.hashes, strict=True)
            ]
            shard = chain.shard_row(_sqlite_time(chain.started_at))
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(self._executor, self._write, rows, shard, payloads)
            except sqlite3.Error as exc:
                raise StorageError(f"audit batch not stored: {exc.__class__.__name__}") from exc
            chain.advance(links)

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

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: Any = None
        self._chain = _Chain()

    async def append(
        self, records: Sequence[AuditRecord], payloads: Sequence[_PayloadRow] = ()
    ) -> None:
        chain = self._chain
        links = chain.link(records)
        async with chain.turn:
            links = chain.relinked(records, links)
            await self._store(records, links, payloads)
            chain.advance(links)

    async def _store(
        self, records: Sequence[AuditRecord], links: _Links, payloads: Sequence[_PayloadRow]
    ) -> None:
        chain = self._chain
        rows = [
            _row(r, r.created_at, chain.shard, n, digest)
            for r, (n, digest) in zip(records, links.hashes, strict=True)
        ]
        shard = chain.shard_row(chain.started_at)
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(self._dsn, timeout=10)
            try:
                await self._copy(rows, shard, payloads)
            except asyncpg.CheckViolationError as exc:
                if NO_PARTITION not in str(exc):
                    raise
                # A month without its partition (the runtime makes them ahead; a clock far
                # off, or a first record after a long pause): make it and store the batch.
                for month in sorted({Month.of(r.created_at) for r in records}):
                    await self._conn.execute(partition_ddl(month))
                await self._copy(rows, shard, payloads)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            await self._drop()
            raise StorageError(f"audit batch not stored: {exc.__class__.__name__}") from exc

    async def _copy(
        self,
        rows: list[tuple[Any, ...]],
        shard: tuple[Any, ...] | None,
        payloads: Sequence[_PayloadRow],
    ) -> None:
        async with self._conn.transaction():
            if shard is not None:
                await self._conn.execute(_POSTGRES_SHARD, *shard)
            await self._conn.copy_records_to_table("audit_records", records=rows, columns=COLUMNS)
            if payloads:
                await self._conn.copy_records_to_table(
                    "audit_payloads", records=payloads, columns=PAYLOAD_COLUMNS
                )

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            await conn.close()


def _appender(engine: AsyncEngine) -> _Appender:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return _SqliteAppender(url.database or ":memory:")
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return _PostgresAppender(dsn)


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
    keys): one transaction per batch."""

    def __init__(self, engine: AsyncEngine, *, payload_keys: PayloadKeys | None = None) -> None:
        self._engine = engine
        self._appender = _appender(engine)
        self.payload_keys = payload_keys

    async def append(self, records: Sequence[AuditRecord]) -> None:
        await self._appender.append(records)

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
        await self._appender.append(records, rows)

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
