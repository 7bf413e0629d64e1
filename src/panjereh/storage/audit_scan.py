"""Verifying the whole audit log (or a window of it) in one pass, fast (docs/audit-log.md).

`panjereh audit verify` reads every record once, straight from the driver (``sqlite3`` on
SQLite, an asyncpg cursor on PostgreSQL), only the columns the canonical bytes need, with the
time already in its canonical text; `ChainVerifier.feed_rows` hashes each row and, for the
records a checkpoint covers, its Merkle leaf in the same pass, so each checkpoint's root is
recomputed without reading its records again.  Everything is read inside one read-only
transaction: a snapshot, so records and checkpoints written meanwhile do not look like a cut-off
tail.

The findings are those of `ChainVerifier.feed` and `verify_checkpoints` over the same log, in
the same order (chains by shard, then each checkpoint's own); tests compare the two.

A *window* (``since``/``until``) verifies the records created in it: for each shard the
records from the first to the last created in the window, starting from the stored hash of the
record before them (trusted, and printed), with the checkpoints whose records all lie in it
(their Merkle roots and pinned heads) and the signature and link of every checkpoint touching
it.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import gc
import hashlib
import itertools
import logging
import multiprocessing
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import orjson
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit import merkle
from panjereh.audit.chain import GENESIS
from panjereh.audit.checkpoints import Checkpoint
from panjereh.audit.heads import HeadEvidence, SignedHead, head_findings
from panjereh.audit.verify import (
    RAW_COLUMNS,
    ChainVerifier,
    Finding,
    Problem,
    RawRow,
    Summary,
    stored_leaf,
)
from panjereh.storage.checkpoints_repo import Start, before_starts, compare_copies
from panjereh.storage.engine import StorageError

log = logging.getLogger(__name__)

CHUNK = 20_000  # rows per fetch
MMAP_BYTES = 1 << 40  # SQLite maps at most what the file holds (and its build's limit)

_SQLITE_TIME = "replace(created_at, ' ', 'T') || 'Z'"
_POSTGRES_TIME = """to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def _select(time: str) -> str:
    return ", ".join(time if c == "created_at" else c for c in RAW_COLUMNS)


_SQLITE_COLUMNS = _select(_SQLITE_TIME)
_POSTGRES_COLUMNS = _select(_POSTGRES_TIME)


@dataclass(slots=True)
class Window:
    """The records created in [since, until), per shard: (seq before the first, last seq)."""

    since: datetime | None
    until: datetime | None
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)  # shard -> (first, last)
    trusted: dict[str, tuple[int, str]] = field(default_factory=dict)  # shard -> start used


@dataclass(slots=True)
class Report:
    chains: list[Finding]
    copies: list[Finding]
    checkpoints: list[Finding]
    summary: Summary
    checked: int  # checkpoints checked
    unchecked: list[int]  # checkpoints whose Merkle roots could not be recomputed here
    window: Window | None = None
    heads: list[Finding] = field(default_factory=list)  # against the signed shard heads
    evidence: HeadEvidence | None = None  # what they were weighed with (None: a window)

    @property
    def findings(self) -> list[Finding]:
        return [*self.chains, *self.copies, *self.checkpoints, *self.heads]


class _Reader(Protocol):
    url: str  # where a worker process opens its own reader

    async def registered(self) -> list[str]: ...

    async def checkpoints(self) -> list[Checkpoint]: ...

    async def shards(self) -> list[str]: ...

    def rows(self, shard: str, after: int, upto: int | None) -> AsyncIterator[list[RawRow]]: ...

    async def loose(self, shard: str | None) -> list[RawRow]: ...

    async def window(
        self, since: datetime | None, until: datetime | None
    ) -> tuple[dict[str, tuple[int, int]], int]: ...

    async def loose_in(
        self, since: datetime | None, until: datetime | None
    ) -> list[tuple[str | None, RawRow]]: ...

    async def predecessor(self, shard: str, seq: int) -> tuple[int, str] | None: ...

    async def hashes(self, shard: str, first: int, last: int) -> list[str]: ...

    async def _fetch(self, sql: str, *args: Any) -> list[Any]: ...

    async def close(self) -> None: ...


def _checkpoint(body: str, key_id: str, signature: str) -> Checkpoint:
    document = orjson.loads(body)
    document["key_id"], document["signature"] = key_id, signature
    return Checkpoint.from_json(document)


def _sqlite_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _window_clause(since: datetime | None, until: datetime | None, mark: Callable[[], str]) -> str:
    parts = []
    if since is not None:
        parts.append(f"created_at >= {mark()}")
    if until is not None:
        parts.append(f"created_at < {mark()}")
    return " AND ".join(parts) or "TRUE"


class _SqliteReader:
    """One ``sqlite3`` connection, one read transaction.  Its calls block: the whole pass
    runs in a thread of its own with its own event loop (`verify_log`), so the caller's loop
    stays free and no second Python thread competes for the GIL each time the driver steps
    to the next row."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self.url = f"sqlite:///{path}"

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    def _open(self) -> None:
        conn = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=30000")
        # Pages read through a memory map, not one pread() system call each (a read-only
        # pass over the whole file: a fifth of its time went into them).
        conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        conn.execute("BEGIN")  # the snapshot: everything below reads the same state
        conn.execute("SELECT 1 FROM audit_records LIMIT 1").fetchall()
        self._conn = conn

    async def open(self) -> None:
        self._open()

    def _all(self, sql: str, *args: Any) -> list[Any]:
        assert self._conn is not None  # noqa: S101 - opened first
        return self._conn.execute(sql, args).fetchall()

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        result: list[Any] = await self._run(self._all, sql, *args)
        return result

    async def registered(self) -> list[str]:
        return [str(r[0]) for r in await self._fetch("SELECT id FROM audit_shards")]

    async def checkpoints(self) -> list[Checkpoint]:
        rows = await self._fetch(
            "SELECT body, key_id, signature FROM audit_checkpoints ORDER BY number"
        )
        return [_checkpoint(*row) for row in rows]

    async def shards(self) -> list[str]:
        found: list[str] = []
        while True:  # one index probe per shard, not a scan of the table
            sql = "SELECT min(shard) FROM audit_records WHERE shard > ?"
            (value,) = (await self._fetch(sql, found[-1] if found else ""))[0]
            if value is None:
                return found
            found.append(str(value))

    def _cursor(self, sql: str, args: Sequence[Any]) -> sqlite3.Cursor:
        assert self._conn is not None  # noqa: S101 - opened first
        cursor = self._conn.execute(sql, args)
        cursor.arraysize = CHUNK
        return cursor

    async def rows(self, shard: str, after: int, upto: int | None) -> AsyncIterator[list[RawRow]]:
        sql = f"SELECT {_SQLITE_COLUMNS} FROM audit_records WHERE shard = ? AND seq > ?"  # noqa: S608 - constant names
        args: list[Any] = [shard, after]
        if upto is not None:
            sql += " AND seq <= ?"
            args.append(upto)
        cursor = self._cursor(sql + " ORDER BY seq", args)
        while chunk := cursor.fetchmany():
            yield chunk
        cursor.close()

    async def loose(self, shard: str | None) -> list[RawRow]:
        args: tuple[Any, ...] = ()
        if shard is None:
            where = "shard IS NULL"
        else:
            where, args = "shard = ? AND seq IS NULL", (shard,)
        sql = f"SELECT {_SQLITE_COLUMNS} FROM audit_records WHERE {where} ORDER BY id"  # noqa: S608
        return await self._fetch(sql, *args)

    def _marks(self) -> Callable[[], str]:
        return lambda: "?"

    def _times(self, since: datetime | None, until: datetime | None) -> list[str]:
        return [_sqlite_time(t) for t in (since, until) if t is not None]

    async def window(
        self, since: datetime | None, until: datetime | None
    ) -> tuple[dict[str, tuple[int, int]], int]:
        clause = _window_clause(since, until, self._marks())
        sql = (
            "SELECT shard, min(seq), max(seq), sum(CASE WHEN seq IS NULL OR shard IS NULL "  # noqa: S608
            f"THEN 1 ELSE 0 END) FROM audit_records WHERE {clause} GROUP BY shard"
        )
        return _bounds(await self._fetch(sql, *self._times(since, until)))

    async def loose_in(
        self, since: datetime | None, until: datetime | None
    ) -> list[tuple[str | None, RawRow]]:
        clause = _window_clause(since, until, self._marks())
        sql = (
            f"SELECT shard, {_SQLITE_COLUMNS} FROM audit_records WHERE ({clause}) "  # noqa: S608
            "AND (shard IS NULL OR seq IS NULL) ORDER BY shard, id"
        )
        rows = await self._fetch(sql, *self._times(since, until))
        return [(row[0], row[1:]) for row in rows]

    async def predecessor(self, shard: str, seq: int) -> tuple[int, str] | None:
        sql = (
            "SELECT seq, record_hash FROM audit_records WHERE shard = ? AND seq < ? "
            "ORDER BY seq DESC LIMIT 1"
        )
        found = await self._fetch(sql, shard, seq)
        return None if not found else (int(found[0][0]), str(found[0][1]))

    async def hashes(self, shard: str, first: int, last: int) -> list[str]:
        sql = (
            "SELECT record_hash FROM audit_records WHERE shard = ? AND seq >= ? AND seq <= ? "
            "ORDER BY seq"
        )
        return [row[0] for row in await self._fetch(sql, shard, first, last)]

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _PostgresReader:
    """One asyncpg connection, one read-only REPEATABLE READ transaction (a snapshot),
    server-side cursors fetched a chunk at a time."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self.url = dsn
        self._conn: Any = None
        self._transaction: Any = None

    async def open(self) -> None:
        self._conn = await asyncpg.connect(self._dsn, timeout=10)
        self._transaction = self._conn.transaction(isolation="repeatable_read", readonly=True)
        await self._transaction.start()

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        result: list[Any] = await self._conn.fetch(sql, *args)
        return result

    async def registered(self) -> list[str]:
        return [str(r[0]) for r in await self._fetch("SELECT id FROM audit_shards")]

    async def checkpoints(self) -> list[Checkpoint]:
        rows = await self._fetch(
            "SELECT body, key_id, signature FROM audit_checkpoints ORDER BY number"
        )
        return [_checkpoint(*row) for row in rows]

    async def shards(self) -> list[str]:
        found: list[str] = []
        while True:
            sql = "SELECT min(shard) FROM audit_records WHERE shard > $1"
            value = await self._conn.fetchval(sql, found[-1] if found else "")
            if value is None:
                return found
            found.append(str(value))

    async def rows(self, shard: str, after: int, upto: int | None) -> AsyncIterator[list[RawRow]]:
        sql = f"SELECT {_POSTGRES_COLUMNS} FROM audit_records WHERE shard = $1 AND seq > $2"  # noqa: S608 - constant names
        args: list[Any] = [shard, after]
        if upto is not None:
            sql += " AND seq <= $3"
            args.append(upto)
        cursor = await self._conn.cursor(sql + " ORDER BY seq", *args)
        while chunk := await cursor.fetch(CHUNK):
            yield chunk

    async def loose(self, shard: str | None) -> list[RawRow]:
        args: tuple[Any, ...] = ()
        if shard is None:
            where = "shard IS NULL"
        else:
            where, args = "shard = $1 AND seq IS NULL", (shard,)
        sql = f"SELECT {_POSTGRES_COLUMNS} FROM audit_records WHERE {where} ORDER BY id"  # noqa: S608
        return await self._fetch(sql, *args)

    def _marks(self) -> Callable[[], str]:
        count = iter(range(1, 3))
        return lambda: f"${next(count)}"

    async def window(
        self, since: datetime | None, until: datetime | None
    ) -> tuple[dict[str, tuple[int, int]], int]:
        clause = _window_clause(since, until, self._marks())
        sql = (
            "SELECT shard, min(seq), max(seq), count(*) FILTER (WHERE seq IS NULL OR shard IS "  # noqa: S608
            f"NULL) FROM audit_records WHERE {clause} GROUP BY shard"
        )
        return _bounds(await self._fetch(sql, *[t for t in (since, until) if t is not None]))

    async def loose_in(
        self, since: datetime | None, until: datetime | None
    ) -> list[tuple[str | None, RawRow]]:
        clause = _window_clause(since, until, self._marks())
        sql = (
            f"SELECT shard, {_POSTGRES_COLUMNS} FROM audit_records WHERE ({clause}) "  # noqa: S608
            "AND (shard IS NULL OR seq IS NULL) ORDER BY shard, id"
        )
        rows = await self._fetch(sql, *[t for t in (since, until) if t is not None])
        return [(row[0], tuple(row)[1:]) for row in rows]

    async def predecessor(self, shard: str, seq: int) -> tuple[int, str] | None:
        sql = (
            "SELECT seq, record_hash FROM audit_records WHERE shard = $1 AND seq < $2 "
            "ORDER BY seq DESC LIMIT 1"
        )
        found = await self._conn.fetchrow(sql, shard, seq)
        return None if found is None else (int(found[0]), str(found[1]))

    async def hashes(self, shard: str, first: int, last: int) -> list[str]:
        sql = (
            "SELECT record_hash FROM audit_records WHERE shard = $1 AND seq >= $2 AND seq <= $3 "
            "ORDER BY seq"
        )
        return [row[0] for row in await self._fetch(sql, shard, first, last)]

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                if self._transaction is not None:
                    await self._transaction.rollback()
            finally:
                await conn.close()


def _bounds(rows: Sequence[Sequence[Any]]) -> tuple[dict[str, tuple[int, int]], int]:
    ranges: dict[str, tuple[int, int]] = {}
    loose = 0
    for shard, first, last, unchained in rows:
        loose += int(unchained or 0)
        if shard is not None and first is not None:
            ranges[str(shard)] = (int(first), int(last))
    return ranges, loose


async def _reader_at(url: URL) -> _Reader:
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise StorageError("verifying needs the SQLite database file, not :memory:")
        sqlite = _SqliteReader(url.database)
        try:
            await sqlite.open()
        except sqlite3.Error as exc:
            await sqlite.close()
            raise StorageError(f"cannot read the audit log: {exc.__class__.__name__}") from exc
        return sqlite
    postgres = _PostgresReader(url.set(drivername="postgresql").render_as_string(False))
    try:
        await postgres.open()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        await postgres.close()
        raise StorageError(f"cannot read the audit log: {exc.__class__.__name__}") from exc
    return postgres


class _Scan:
    """The state of one pass: where each shard's reading stands, and the stored hashes at the
    heads the checkpoints pinned."""

    def __init__(
        self,
        reader: _Reader,
        verifier: ChainVerifier,
        starts: Mapping[str, Start],
        stops: Mapping[str, int] | None,
        pinned: Mapping[str, set[int]],
    ) -> None:
        self.reader, self.verifier, self.stops = reader, verifier, stops
        self._cursor = {shard: seq for shard, (seq, _) in starts.items()}
        self.found: list[Finding] = []
        self._pinned = {shard: sorted(seqs) for shard, seqs in pinned.items()}
        self.at_pins: dict[tuple[str, int], str] = {}

    async def read(self, shard: str, upto: int | None, leaves: list[bytes] | None) -> None:
        """Feed ``shard``'s rows after where its reading stands, up to ``upto`` (None: to
        its end, or the window's)."""
        after = self.at(shard)
        if self.stops is not None:
            stop = self.stops.get(shard, after)
            upto = stop if upto is None else min(upto, stop)
        if upto is not None and upto <= after:
            return
        pins = self._pinned.get(shard, [])
        async for chunk in self.reader.rows(shard, after, upto):
            self.found.extend(self.verifier.feed_rows(shard, chunk, leaves))
            if pins:
                low, high = chunk[0][1], chunk[-1][1]
                for seq in pins[bisect.bisect_left(pins, low) : bisect.bisect_right(pins, high)]:
                    at = bisect.bisect_left(chunk, seq, key=lambda row: int(row[1]))
                    if at < len(chunk) and chunk[at][1] == seq:
                        self.at_pins[shard, seq] = str(chunk[at][2])
        self._cursor[shard] = upto if upto is not None else _END

    def at(self, shard: str) -> int:
        """The last sequence number read (or started from) in ``shard``."""
        return self._cursor.get(shard, -_END)  # numbers below 1 are read too: inserted rows


_END = 2**63 - 1


def _signature_and_link(
    checkpoint: Checkpoint,
    previous: Checkpoint | None,
    public_key_for: Callable[[str], bytes | None],
) -> list[Finding]:
    found = []
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
    return found


def tree_root(leaves: list[bytes]) -> bytes:
    """`panjereh.audit.merkle.root`, level by level: each level hashes its nodes in pairs
    and an odd last node moves up unchanged, which gives RFC 9162's tree for any size (its
    split at the largest power of two is where the right edge's odd nodes join); a list
    comprehension per level instead of a stack step per leaf."""
    if not leaves:
        return merkle.empty_root()
    sha256, node = hashlib.sha256, b"\x01"
    level = leaves
    while len(level) > 1:
        pairs = zip(level[::2], level[1::2], strict=False)  # an odd last node has no pair
        paired = [sha256(node + a + b).digest() for a, b in pairs]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _merkle(checkpoint: Checkpoint, leaves: list[bytes]) -> list[Finding]:
    if len(leaves) == checkpoint.tree_size and tree_root(leaves).hex() == (checkpoint.merkle_root):
        return []
    return [
        Finding(
            Problem.MERKLE,
            None,
            None,
            None,
            f"checkpoint {checkpoint.number}: its {checkpoint.tree_size} records no longer give "
            f"its Merkle root ({len(leaves)} found)",
        )
    ]


def _heads(
    checkpoint: Checkpoint,
    at_pins: Mapping[tuple[str, int], str],
    starts: Mapping[str, Start],
    stops: Mapping[str, int] | None,
    *,
    external: bool,
) -> list[Finding]:
    found = []
    label = f"checkpoint {checkpoint.number}"
    for shard, (seq, head) in sorted(checkpoint.heads.items()):
        if shard in starts and seq <= starts[shard][0]:
            if seq == starts[shard][0] and starts[shard][1].hex() != head:
                found.append(
                    Finding(
                        Problem.REWRITTEN,
                        shard,
                        seq,
                        None,
                        f"{label} pinned this head with another hash than the one verified "
                        "elsewhere: the chain was rewritten",
                    )
                    if external
                    else _rewritten(label, shard, seq)
                )
            continue  # before the start: verified elsewhere, or before the window
        if stops is not None and (shard not in stops or seq > stops[shard]):
            continue  # after the window
        stored = at_pins.get((shard, seq))
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
            found.append(_rewritten(label, shard, seq))
    return found


def _rewritten(label: str, shard: str, seq: int) -> Finding:
    return Finding(
        Problem.REWRITTEN,
        shard,
        seq,
        None,
        f"{label} pinned this head with another hash: the chain was rewritten",
    )


def _touches(
    ranges: Mapping[str, tuple[int, int]], starts: Mapping[str, Start], stops: Mapping[str, int]
) -> tuple[bool, bool]:
    """(touches the window, lies wholly in it)."""
    inside = [s in stops and a > starts[s][0] and b <= stops[s] for s, (a, b) in ranges.items()]
    touching = [s in stops and a <= stops[s] and b > starts[s][0] for s, (a, b) in ranges.items()]
    return any(touching), bool(inside) and all(inside)


async def verify_log(
    engine: AsyncEngine,
    public_key_for: Callable[[str], bytes | None],
    *,
    kept: list[Checkpoint] | None = None,
    starts: Mapping[str, Start] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    heads: HeadEvidence | None = None,
) -> Report:
    """Verify the chains and the checkpoints (the log's own, or ``kept``, a copy, compared
    with the log's) in one pass; with ``since``/``until`` only the window (module
    docstring); with ``starts`` only the records after them (`ChainVerifier`).  The whole
    log (not a window) is also weighed against the signed shard heads (`head_findings`):
    ``heads`` gives the time, the settings and any published heads (default: now, the
    default settings, none published)."""
    if heads is None:
        heads = HeadEvidence(datetime.now(UTC), HEAD_SECONDS, LEASE_SECONDS)
    args = (public_key_for, kept, dict(starts or {}), since, until, heads)
    sqlite = engine.url.get_backend_name() == "sqlite"
    # The pass allocates a tuple per row and keeps a chunk of them alive: the cyclic garbage
    # collector would walk them over and over for nothing (it creates no cycles).
    collecting = gc.isenabled()
    gc.disable()
    try:
        if sqlite:
            return await asyncio.to_thread(asyncio.run, _verify_with(engine, *args))
        return await _verify_with(engine, *args)
    finally:
        if collecting:
            gc.enable()


async def _verify_with(
    engine: AsyncEngine,
    public_key_for: Callable[[str], bytes | None],
    kept: list[Checkpoint] | None,
    starts: dict[str, Start],
    since: datetime | None,
    until: datetime | None,
    heads: HeadEvidence,
) -> Report:
    reader = await _reader_at(engine.url)
    try:
        report = await _verify(reader, public_key_for, kept, starts, since, until)
        if since is None and until is None:
            report.heads = await _weigh_heads(reader, report, heads, public_key_for)
            report.evidence = heads
    except (OSError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StorageError(f"cannot read the audit log: {exc.__class__.__name__}") from exc
    else:
        return report
    finally:
        await reader.close()


async def _verify(  # noqa: C901 - one pass, its cases in order
    reader: _Reader,
    public_key_for: Callable[[str], bytes | None],
    kept: list[Checkpoint] | None,
    starts: dict[str, Start],
    since: datetime | None,
    until: datetime | None,
) -> Report:
    registered = await reader.registered()
    logged = await reader.checkpoints()
    copies = compare_copies(kept, logged) if kept is not None else []
    checked = sorted(kept if kept is not None else logged, key=lambda c: c.number)
    windowed = since is not None or until is not None
    window: Window | None = None
    stops: dict[str, int] | None = None
    external = not windowed
    loose_count = 0
    damaged: list[Finding] = []
    if windowed:
        window = Window(since, until)
        window.ranges, loose_count = await reader.window(since, until)
        given, starts = starts, {}
        for shard, (first, _) in sorted(window.ranges.items()):
            before = await reader.predecessor(shard, first)
            if before is None and shard in given:  # the records before were archived
                before = (given[shard][0], given[shard][1].hex())
            seq, digest = before if before is not None else (0, GENESIS.hex())
            try:
                head = bytes.fromhex(digest)
            except ValueError:
                head = b""
            if len(head) != 32:  # the record before the window has a damaged hash
                damaged.append(
                    Finding(
                        Problem.BAD_HASH,
                        shard,
                        seq,
                        None,
                        "the stored hash is not 64 hex digits",
                    )
                )
                head = GENESIS
            starts[shard] = (seq, head)
            window.trusted[shard] = (seq, head.hex())
        stops = {shard: last for shard, (_, last) in window.ranges.items()}
        touching = []
        for checkpoint in checked:
            touches, _ = _touches(checkpoint.ranges, starts, stops)
            if touches:
                touching.append(checkpoint)
        checked = touching
        shards = sorted(window.ranges)
    else:
        shards = await reader.shards()
    pinned: dict[str, set[int]] = {}
    for checkpoint in checked:
        for shard, (seq, _) in checkpoint.heads.items():
            pinned.setdefault(shard, set()).add(seq)
    own: dict[int, list[Finding]] = {}
    unchecked: list[int] = []
    to_read: list[Checkpoint] = []  # the checkpoints whose records are read and roots computed
    previous: Checkpoint | None = None
    for checkpoint in checked:
        own[checkpoint.number] = _signature_and_link(checkpoint, previous, public_key_for)
        previous = checkpoint
        if stops is not None:
            if _touches(checkpoint.ranges, starts, stops)[1]:
                to_read.append(checkpoint)
            continue
        where = before_starts(checkpoint.ranges, starts)
        if where == "some":
            unchecked.append(checkpoint.number)
        if where == "none":
            to_read.append(checkpoint)
    part = _Part(
        url="",
        checkpoints=to_read,
        shards=shards,
        cursors={},
        tail=not windowed,
        registered=registered,
        starts=starts,
        pinned=pinned,
        stops=stops,
        window=(since, until) if windowed and loose_count else None,
    )
    groups = _groups(to_read, starts) if not windowed else None
    results: list[_PartResult] | None = None
    if groups is not None and len(groups) > 1:
        try:
            results = await _in_processes(reader.url, part, groups)
        except BrokenProcessPool:  # e.g. a caller's main module that cannot be imported again
            log.warning("audit verify: worker processes failed; verifying in one pass")
    if results is None:
        results = [await _run_part(reader, part)]
    chains, merkles, at_pins, summary = _merge(results, registered, starts, windowed)
    chains[:0] = damaged
    found: list[Finding] = []
    for checkpoint in checked:
        found.extend(own[checkpoint.number])
        found.extend(_heads(checkpoint, at_pins, starts, stops, external=external))
        found.extend(merkles.get(checkpoint.number, []))
    return Report(chains, copies, found, summary, len(checked), unchecked, window)


HEAD_SECONDS = 0.25  # the defaults of PANJEREH_AUDIT_HEAD_SECONDS and _LEASE_SECONDS
LEASE_SECONDS = 15.0


def _moment(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)  # SQLite: naive UTC text


async def _weigh_heads(
    reader: _Reader,
    report: Report,
    evidence: HeadEvidence,
    public_key_for: Callable[[str], bytes | None],
) -> list[Finding]:
    """The stored (and published) signed heads against the records just verified."""
    rows = await reader._fetch(
        "SELECT shard, seq, head, created_at, closing, closed_by, key_id, signature "
        "FROM audit_heads ORDER BY id"
    )
    evidence.stored = [
        SignedHead(
            str(r[0]), int(r[1]), str(r[2]), _moment(r[3]), bool(r[4]), r[5], str(r[6]), str(r[7])
        )
        for r in rows
    ]
    signing = await reader._fetch("SELECT id FROM audit_shards WHERE signs_heads")
    evidence.signing = {str(r[0]) for r in signing}
    leases = await reader._fetch("SELECT shard, heartbeat_at FROM audit_leases")
    evidence.leases = {str(r[0]): _moment(r[1]) for r in leases}

    async def hash_at(shard: str, seq: int) -> str | None:
        found = await reader.hashes(shard, seq, seq)
        return str(found[0]) if found else None

    tips = dict(report.summary.heads or {})
    return await head_findings(evidence, tips, hash_at, public_key_for)


PARALLEL_MIN = 1_000_000  # records the checkpoints cover, from which the pass is split
PARALLEL_MAX = 4  # processes at most


@dataclass(slots=True)
class _Part:
    """What one pass reads (sent to a worker process as it is)."""

    url: str
    checkpoints: list[Checkpoint]  # in order: their records are read, their roots computed
    shards: list[str]
    cursors: dict[str, int]  # per shard: the last number the passes before this one read
    tail: bool  # read every shard to its end, and the rows without a place in any chain
    registered: list[str]
    starts: dict[str, Start]
    pinned: dict[str, set[int]]
    stops: dict[str, int] | None
    window: tuple[datetime | None, datetime | None] | None  # read the window's loose rows


@dataclass(slots=True)
class _PartResult:
    chains: list[Finding]
    merkles: dict[int, list[Finding]]
    at_pins: dict[tuple[str, int], str]
    summary: Summary
    entered: list[str]


def _groups(checkpoints: list[Checkpoint], starts: Mapping[str, Start]) -> list[int] | None:
    """Where to split ``checkpoints`` into passes of about equal size (indexes where each
    group after the first begins), or None if the log is too small to be worth it or the
    checkpoints' ranges are not in the order the log writes them."""
    cursor = {shard: seq for shard, (seq, _) in starts.items()}
    total = 0
    for checkpoint in checkpoints:
        for shard, (first, last) in checkpoint.ranges.items():
            if not cursor.get(shard, -_END) < first <= last:
                return None
            cursor[shard] = last
        total += checkpoint.tree_size
    workers = min(os.cpu_count() or 1, PARALLEL_MAX)
    if total < PARALLEL_MIN or workers < 2:
        return None
    splits: list[int] = []
    done, share = 0, total / workers
    for index, checkpoint in enumerate(checkpoints):
        if done >= share * (len(splits) + 1) and len(splits) < workers - 1:
            splits.append(index)
        done += checkpoint.tree_size
    return [0, *splits]


async def _in_processes(url: str, part: _Part, groups: list[int]) -> list[_PartResult]:
    """The pass split at checkpoint boundaries, one process per group: each group starts
    each shard from the stored hash of the record before it, as the single pass would."""
    parts = []
    cursors: dict[str, int] = {shard: seq for shard, (seq, _) in part.starts.items()}
    bounds = [*groups, len(part.checkpoints)]
    for index, (low, high) in enumerate(itertools.pairwise(bounds)):
        mine = part.checkpoints[low:high]
        parts.append(
            dataclasses.replace(
                part,
                url=url,
                checkpoints=mine,
                cursors=dict(cursors),
                tail=part.tail and index == len(bounds) - 2,
            )
        )
        for checkpoint in mine:
            for shard, (_, last) in checkpoint.ranges.items():
                cursors[shard] = last
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    with ProcessPoolExecutor(max_workers=len(parts), mp_context=context) as pool:
        return list(
            await asyncio.gather(*(loop.run_in_executor(pool, _part_process, p) for p in parts))
        )


def _part_process(part: _Part) -> _PartResult:
    gc.disable()

    async def run() -> _PartResult:
        reader = await _reader_at(make_url(part.url))
        try:
            return await _run_part(reader, part)
        finally:
            await reader.close()

    return asyncio.run(run())


async def _starts(reader: _Reader, part: _Part) -> dict[str, Start]:
    """The given starts, and for a pass that begins after others, each shard's record before
    its first (the stored hash there, as the single pass would have it)."""
    starts = dict(part.starts)
    for shard, cursor in part.cursors.items():
        if shard in starts and starts[shard][0] == cursor:
            continue
        before = await reader.predecessor(shard, cursor + 1)
        if before is not None:
            seq, digest = before
            try:
                head = bytes.fromhex(digest)
            except ValueError:
                head = b""
            # A damaged hash before the split: the single pass would go on from zeros too.
            starts[shard] = (seq, head if len(head) == 32 else GENESIS)
    return starts


async def _roots(reader: _Reader, scan: _Scan, part: _Part) -> dict[int, list[Finding]]:
    """Read each checkpoint's records (and any before them not read yet), its root."""
    merkles: dict[int, list[Finding]] = {}
    for checkpoint in part.checkpoints:
        ranges = sorted(checkpoint.ranges.items())
        leaves: list[bytes] = []
        if all(scan.at(s) < a <= b for s, (a, b) in ranges):
            for shard, (first, last) in ranges:
                await scan.read(shard, first - 1, None)
                await scan.read(shard, last, leaves)
        else:  # ranges out of the usual order (a copy that is not the log's): read again
            for shard, (first, last) in ranges:
                leaves.extend(stored_leaf(h) for h in await reader.hashes(shard, first, last))
        merkles[checkpoint.number] = _merkle(checkpoint, leaves)
    return merkles


async def _run_part(reader: _Reader, part: _Part) -> _PartResult:
    starts = await _starts(reader, part)
    verifier = ChainVerifier(part.registered, starts=starts)
    scan = _Scan(reader, verifier, starts, part.stops, part.pinned)
    merkles = await _roots(reader, scan, part)
    chains = scan.found
    if part.tail:
        for shard in part.shards:
            await scan.read(shard, None, None)
        for shard in part.shards:
            chains.extend(verifier.feed_loose(shard, await reader.loose(shard)))
        chains.extend(verifier.feed_loose(None, await reader.loose(None)))
    elif part.stops is not None:
        for shard in part.shards:
            await scan.read(shard, None, None)
        if part.window is not None:
            for owner, row in await reader.loose_in(*part.window):
                chains.extend(verifier.feed_loose(owner, [row]))
    return _PartResult(chains, merkles, scan.at_pins, verifier.summary, verifier.entered)


def _merge(
    results: list[_PartResult],
    registered: list[str],
    starts: Mapping[str, Start],
    windowed: bool,
) -> tuple[list[Finding], dict[int, list[Finding]], dict[tuple[str, int], str], Summary]:
    chains: list[Finding] = []
    unknown: set[str | None] = set()
    merkles: dict[int, list[Finding]] = {}
    at_pins: dict[tuple[str, int], str] = {}
    summary = Summary(heads={})
    entered: set[str] = set()
    for result in results:
        for finding in result.chains:
            if finding.problem is Problem.UNKNOWN_SHARD:
                if finding.shard in unknown:
                    continue  # each pass that met the shard said so
                unknown.add(finding.shard)
            chains.append(finding)
        merkles.update(result.merkles)
        at_pins.update(result.at_pins)
        summary.records += result.summary.records
        entered.update(result.entered)
        assert summary.heads is not None  # noqa: S101 - set above
        assert result.summary.heads is not None  # noqa: S101 - set in ChainVerifier
        summary.heads.update(result.summary.heads)
    summary.shards = len(entered)
    chains.sort(key=lambda f: f.shard or "")  # by shard, as reading them in that order gives
    if not windowed:
        chains.extend(
            Finding(Problem.EMPTY_SHARD, shard, None, None, "a registered shard has no records")
            for shard in sorted(set(registered) - entered - set(starts))
        )
    return chains, merkles, at_pins, summary
