"""The audit log: records appended per second, records verified per second, and the citizen
page's p95 for a citizen with 10,000 records among 10 million (issue 5).

- **append**: realistic records (subject hashes, payload hashes, uuid7 ids) through the
  exchange's own writer (`AuditWriter` + `SqlAuditStore`, the settings' batch size and commit
  delay) into a freshly migrated database with the production indexes, from many concurrent
  `record()` calls so that commits are shared (group commit); target >= 50,000/s.
- **verify**: `panjereh audit verify`'s own pass (`panjereh.storage.audit_scan.verify_log`:
  every chain and every checkpoint, signatures, pinned heads and Merkle roots) over the data
  set below; target >= 200,000/s.
- **citizen**: the data set (`build`): 10,000,000 chained records of which 10,000 are about one
  citizen, with signed checkpoints, bulk-loaded (not through the writer) and kept between runs
  (``--rebuild`` to make it again); the p95 of ``GET /api/v1/me/inquiries`` (first 50 rows) over
  ``--requests`` sequential requests against a real ``panjereh serve`` on a local socket, signed
  in with the development sign-in; target < 100 ms.  Without the citizen API on this branch the
  equivalent indexed query is timed instead, and the result says so.

SQLite in a file under ``--data`` (default var/bench/audit); PostgreSQL at
PANJEREH_BENCH_POSTGRES_URL (or PANJEREH_TEST_POSTGRES_URL), in databases of its own
(``panjereh_bench_audit_*``); skipped, with a note, when neither is set.

    .venv/bin/python bench/audit.py                 # everything, 10M records (built once)
    .venv/bin/python bench/audit.py --records 1000000 --only append,verify
Results: bench/results/audit.json.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import importlib.util
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import nacl.bindings
import orjson
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen.environment import machine
from panjereh.audit import merkle
from panjereh.audit.archive import Month
from panjereh.audit.chain import FORMAT, GENESIS, canonical_bytes
from panjereh.audit.checkpoints import NO_PREVIOUS, Checkpoint
from panjereh.audit.heads import SignedHead
from panjereh.audit.records import AuditRecord, Outcome
from panjereh.audit.subjects import SubjectKeys
from panjereh.audit.writer import AuditWriter
from panjereh.config import Settings
from panjereh.domain.clock import SystemClock
from panjereh.domain.ids import IdMaker
from panjereh.exchange.keys import load_keys
from panjereh.storage.audit_browse import RecordCursor, RecordQuery, records_page
from panjereh.storage.audit_repo import COLUMNS, HeadPolicy, SqlAuditStore
from panjereh.storage.audit_scan import verify_log
from panjereh.storage.engine import create_engine
from panjereh.storage.migrate import upgrade
from panjereh.storage.partitions import partition_ddl

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "audit.json"
TARGETS = {"append_per_s": 50_000, "verify_per_s": 200_000, "citizen_p95_ms": 100.0}
# The bench's own keys: a fixed pepper (so the served portal hashes the citizen's national
# code as the data set did) and a fixed Ed25519 seed for the checkpoints.
PEPPER = "bench-audit-pepper-0123456789abcdef"
CITIZEN = "0084575948"  # a valid national code (checksum), the citizen of the data set
SEED = bytes(range(32))
PUBLIC, SECRET = nacl.bindings.crypto_sign_seed_keypair(SEED)
KEY_ID = "bench-audit-2026-12"
SERVE_KEYS = ROOT / "var" / "bench" / "audit-serve-keys"  # the served exchange's keys, kept
SERVICES = [
    ("civil-registry.person.v1", "social-security/benefits", "benefit-eligibility"),
    ("tax.income.v2", "banking/central-bank", "credit-check"),
    ("health.insurance.v1", "health/hospitals", "treatment"),
    ("education.degrees.v1", "labour/employment", "hiring"),
    ("land-registry.deeds.v1", "judiciary/courts", "case-review"),
]


def _public_key(key_id: str) -> bytes | None:
    """The bench's checkpoint key, and those of the exchange the citizen part serves: it signs
    a checkpoint over its sign-in events when it stops, and the next run verifies it."""
    if key_id == KEY_ID:
        return PUBLIC
    if not SERVE_KEYS.is_dir():
        return None
    found = load_keys(SERVE_KEYS, datetime.now(UTC)).public_key(key_id)
    return found.public_bytes_raw() if found is not None else None


def _sign(body: bytes) -> bytes:
    return nacl.bindings.crypto_sign(body, SECRET)[:64]


def _subjects() -> SubjectKeys:
    return SubjectKeys.from_pepper(PEPPER.encode("utf-8"))


def _hex_pool(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.randbytes(32).hex() for _ in range(count)]


def _record(
    n: int,
    exchange_id: str,
    created: datetime,
    subject: str,
    hashes: Sequence[str],
) -> AuditRecord:
    service, consumer, purpose = SERVICES[n % len(SERVICES)]
    failed = n % 97 == 0
    return AuditRecord(
        exchange_id=exchange_id,
        created_at=created,
        consumer=consumer,
        service_id=service,
        purpose=purpose,
        subject_hash=subject,
        outcome=Outcome.FAILED if failed else Outcome.OK,
        status_code=504 if failed else 200,
        error_type="ProviderTimeout" if failed else None,
        duration_ms=round(3.0 + (n % 5000) / 1000, 3),
        request_hash=hashes[n % len(hashes)],
        response_hash=None if failed else hashes[(n * 7 + 3) % len(hashes)],
        request_id=f"req-{n:x}",
        auth_method="signature" if n % 5 == 0 else "api-key",
        cached=n % 11 == 0,
        provider_ms=None if failed else round(2.0 + (n % 4000) / 1000, 3),
    )


# ---------------------------------------------------------------------------------------------
# (a) appends through the exchange's writer


async def _append(
    url: str, total: int, concurrency: int, go: float | None = None, worker: int = 0
) -> dict[str, Any]:
    """``go``: a wall-clock time (``time.time()``) to start the measured part at, so that
    several worker processes (`_append_workers`) measure the same span."""
    settings = Settings()
    engine = create_engine(url)
    await upgrade(engine)
    # As the exchange runs: the writer signs its shard's head at most every
    # PANJEREH_AUDIT_HEAD_SECONDS (one Ed25519 signature in a batch's transaction).
    store = SqlAuditStore(
        engine,
        heads=HeadPolicy(
            signer=lambda: (KEY_ID, _sign),
            clock=SystemClock(),
            seconds=settings.audit_head_seconds,
        ),
    )
    batches: list[int] = []
    append = store.append

    async def counted(records: Sequence[AuditRecord]) -> None:
        await append(records)
        batches.append(len(records))

    store.append = counted  # type: ignore[method-assign]
    in_flight = 0
    writer = AuditWriter(
        store,
        batch_size=settings.audit_batch_size,
        commit_delay=settings.audit_commit_delay_ms / 1000,
        siblings=lambda: in_flight,
    )
    keys, ids, hashes = _subjects(), IdMaker(b"bench-append-%d" % worker), _hex_pool(4096, 1)
    now = datetime.now(UTC)
    subjects = [keys.hash(f"{1_000_000_000 + i:010d}") for i in range(10_000)]
    records = [
        _record(n, ids(), now + timedelta(microseconds=n), subjects[n % len(subjects)], hashes)
        for n in range(total)
    ]
    writer.start()

    async def caller(mine: list[AuditRecord]) -> None:
        nonlocal in_flight
        for record in mine:
            in_flight += 1
            try:
                await writer.record(record)
            finally:
                in_flight -= 1

    warm = records[:2000]
    await asyncio.gather(*(caller(warm[i::50]) for i in range(50)))
    measured = records[2000:]
    batches.clear()
    if go is not None:
        await asyncio.sleep(max(0.0, go - time.time()))
    started = time.perf_counter()
    await asyncio.gather(*(caller(measured[i::concurrency]) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    await writer.stop()
    await store.close()
    count = await SqlAuditStore(engine).count()
    await engine.dispose()
    return {
        "records": len(measured),
        "concurrent_callers": concurrency,
        "seconds": round(elapsed, 3),
        "per_s": round(len(measured) / elapsed),
        "commits": len(batches),
        "mean_batch": round(statistics.fmean(batches), 1) if batches else 0,
        "batch_size_setting": settings.audit_batch_size,
        "commit_delay_ms_setting": settings.audit_commit_delay_ms,
        "stored": count,
        "valid": count == total,
        "ended_at": time.time(),
    }


async def _count(url: str) -> int:
    engine = create_engine(url)
    try:
        return await SqlAuditStore(engine).count()
    finally:
        await engine.dispose()


def _append_workers(url: str, workers: int, total: int, concurrency: int) -> dict[str, Any]:
    """Appends from ``workers`` processes at once (``--workers N`` on PostgreSQL: each its own
    writer and shard), ``total`` records in all: the combined rate over the common span."""
    go = time.time() + 20  # time for every process to start, make its records and warm up
    script = (
        "import json, sys; from bench.audit import _append, _run_loop; "
        "from functools import partial; "
        "print(json.dumps(_run_loop(partial(_append, sys.argv[1], int(sys.argv[2]), "
        "int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])))))"
    )
    each = total // workers
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                script,
                url,
                str(each),
                str(concurrency // workers),
                str(go),
                str(n),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    results = [json.loads(child.communicate()[0]) for child in children]
    if any(child.returncode for child in children):
        raise RuntimeError("an append worker failed")
    measured = sum(r["records"] for r in results)
    span = max(r["ended_at"] for r in results) - go
    stored = asyncio.run(_count(url))  # once every worker has stopped
    return {
        "workers": workers,
        "records": measured,
        "seconds": round(span, 3),
        "per_s": round(measured / span),
        "per_worker_per_s": [r["per_s"] for r in results],
        "commits": sum(r["commits"] for r in results),
        "stored": stored,
        "valid": stored == each * workers,
    }


# ---------------------------------------------------------------------------------------------
# (c) the data set: 10M chained records, 10,000 of them about one citizen, signed checkpoints


@dataclass(frozen=True)
class Shape:
    records: int
    citizen_records: int
    shards: int
    checkpoint_every: int  # records (over all shards) per checkpoint
    heads_every: int = 0  # a signed head after every n records of a shard (0: none)

    def key(self) -> str:
        heads = f"-h{self.heads_every}" if self.heads_every else ""
        return (
            f"r{self.records}-c{self.citizen_records}-s{self.shards}-k{self.checkpoint_every}"
            f"{heads}-v2"
        )


HEAD_COLUMNS = ("shard", "seq", "head", "created_at", "closing", "closed_by", "key_id", "signature")


def _head_row(shard: str, seq: int, digest: str, at: datetime, closing: bool) -> tuple[Any, ...]:
    """A signed head as the writer stores it (``HEAD_COLUMNS`` order), signed with the bench's
    key, so verify checks its signature as it checks the exchange's."""
    head = SignedHead(shard, seq, digest, at, closing=closing).signed(KEY_ID, _sign)
    return (shard, seq, digest, at, closing, None, head.key_id, head.signature)


_NO_V2 = (None,) * 6  # format, context, request_bytes, response_bytes, operation, projection_id


Chunk = tuple[list[tuple[Any, ...]], Checkpoint | None, list[tuple[Any, ...]]]


def _rows(shape: Shape) -> Iterator[Chunk]:
    """Chunks of rows (``COLUMNS`` order, times as datetimes), after each round the signed
    checkpoint over it, and the signed heads of the round (``HEAD_COLUMNS``; with
    ``heads_every``, a head after every n-th record of a shard and a closing head at the
    end). Records are numbered n = 0..records-1 and go round-robin to the shards; every
    (records / citizen_records)-th is the citizen's."""
    keys, hashes = _subjects(), _hex_pool(65_536, 2)
    citizen = keys.hash(CITIZEN)
    others = [keys.hash(f"{2_000_000_000 + i:010d}") for i in range(200_000)]
    stride = shape.records // shape.citizen_records
    shard_ids = [f"bench-shard-{i:02d}" for i in range(shape.shards)]
    heads = [(0, GENESIS) for _ in shard_ids]
    start = datetime(2026, 10, 1, tzinfo=UTC)
    step = timedelta(days=60) / shape.records
    previous: Checkpoint | None = None
    prefix = "0190f3c2"
    start_text = start.replace(tzinfo=None)
    sha256, dumps = hashlib.sha256, orjson.dumps
    n = 0
    while n < shape.records:
        round_end = min(n + shape.checkpoint_every, shape.records)
        per_shard: list[list[tuple[Any, ...]]] = [[] for _ in shard_ids]
        signed: list[tuple[Any, ...]] = []
        first_seq = [seq + 1 for seq, _ in heads]
        while n < round_end:
            i = n % shape.shards
            seq, head = heads[i]
            seq += 1
            subject = citizen if n % stride == stride // 2 else others[(n * 7919) % len(others)]
            created = start + step * n
            exchange_id = (
                f"{prefix}-{n >> 48 & 0xFFFF:04x}-7{n >> 36 & 0xFFF:03x}-"
                f"8{n >> 24 & 0xFFF:03x}-{n & 0xFFFFFF:06x}{i:06x}"
            )
            service, consumer, purpose = SERVICES[n % len(SERVICES)]
            failed = n % 97 == 0
            duration = round(3.0 + (n % 5000) / 1000, 3)
            provider = None if failed else round(2.0 + (n % 4000) / 1000, 3)
            row = (
                exchange_id,
                created,
                consumer,
                service,
                purpose,
                subject,
                "failed" if failed else "ok",
                504 if failed else 200,
                "ProviderTimeout" if failed else None,
                duration,
                hashes[n % len(hashes)],
                None if failed else hashes[(n * 7 + 3) % len(hashes)],
                f"req-{n:x}",
                "signature" if n % 5 == 0 else "api-key",
                None,
                n % 11 == 0,
                provider,
            )
            canonical = dumps(
                [
                    FORMAT,
                    shard_ids[i],
                    seq,
                    exchange_id,
                    (start_text + step * n).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    *row[2:9],
                    round(duration * 1000),
                    *row[10:16],
                    None if provider is None else round(provider * 1000),
                ]
            )
            if n % 1000 == 0:  # the data set's bytes are the canonical form: checked as we go
                record = _record(n, exchange_id, created, subject, hashes)
                if canonical_bytes(record, shard_ids[i], seq) != canonical:
                    raise AssertionError(f"record {n}: not the canonical bytes")
            digest = sha256(head + canonical).digest()
            heads[i] = (seq, digest)
            # format 1 (its column empty), as written before format 2: the five values empty
            per_shard[i].append((*row, *_NO_V2, shard_ids[i], seq, digest.hex()))
            if shape.heads_every and seq % shape.heads_every == 0:
                signed.append(_head_row(shard_ids[i], seq, digest.hex(), created, False))
            n += 1
        if shape.heads_every and n == shape.records:  # each writer's closing head
            for shard, (seq, head) in zip(shard_ids, heads, strict=True):
                signed.append(_head_row(shard, seq, head.hex(), start + step * n, True))
        leaves = [
            merkle.leaf_hash(bytes.fromhex(row[-1]))
            for i in sorted(range(len(shard_ids)), key=lambda j: shard_ids[j])
            for row in per_shard[i]
        ]
        checkpoint = Checkpoint(
            number=previous.number + 1 if previous else 1,
            created_at=start + step * n,
            heads={s: (seq, h.hex()) for s, (seq, h) in zip(shard_ids, heads, strict=True)},
            ranges={
                s: (first_seq[i], heads[i][0])
                for i, s in enumerate(shard_ids)
                if heads[i][0] >= first_seq[i]
            },
            tree_size=len(leaves),
            merkle_root=merkle.root(leaves).hex(),
            previous=previous.hash if previous else NO_PREVIOUS,
        ).signed(KEY_ID, _sign)
        previous = checkpoint
        yield [row for rows in per_shard for row in rows], checkpoint, signed


def _checkpoint_row(checkpoint: Checkpoint) -> tuple[Any, ...]:
    return (
        checkpoint.number,
        checkpoint.created_at,
        checkpoint.body().decode(),
        checkpoint.hash,
        checkpoint.key_id,
        checkpoint.signature,
    )


def _sqlite_text(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _build_sqlite(path: Path, shape: Shape) -> None:
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_records'"
        " AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:  # built once at the end: far faster than row by row
        conn.execute(f'DROP INDEX "{name}"')
    marks = ", ".join("?" * len(COLUMNS))
    insert = f"INSERT INTO audit_records ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608
    signs = True if shape.heads_every else None
    conn.executemany(
        "INSERT INTO audit_shards (id, started_at, host, pid, signs_heads) "
        "VALUES (?, ?, 'bench', 0, ?)",
        [
            (f"bench-shard-{i:02d}", "2026-10-01 00:00:00.000000", signs)
            for i in range(shape.shards)
        ],
    )
    head_insert = (
        f"INSERT INTO audit_heads ({', '.join(HEAD_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
    )
    conn.execute("BEGIN")
    for rows, checkpoint, signed in _rows(shape):
        conn.executemany(insert, [(*row[:1], _sqlite_text(row[1]), *row[2:]) for row in rows])
        conn.executemany(head_insert, [(*h[:3], _sqlite_text(h[3]), *h[4:]) for h in signed])
        if checkpoint is not None:
            row = _checkpoint_row(checkpoint)
            conn.execute(
                "INSERT INTO audit_checkpoints (number, created_at, body, checkpoint_hash, key_id,"
                " signature) VALUES (?, ?, ?, ?, ?, ?)",
                (row[0], _sqlite_text(row[1]), *row[2:]),
            )
    conn.execute("COMMIT")
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _fresh_database(server_url: str, name: str) -> str:
    admin = await asyncpg.connect(_dsn(server_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _drop_database(server_url: str, name: str) -> None:
    admin = await asyncpg.connect(_dsn(server_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _build_postgres(url: str, shape: Shape) -> None:
    await _migrate(url)
    conn = await asyncpg.connect(_dsn(url))
    try:
        indexes = await conn.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = "
            "'audit_records' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = "
            "i.indexname)"
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        await conn.executemany(
            "INSERT INTO audit_shards (id, started_at, host, pid, signs_heads) "
            "VALUES ($1, $2, 'bench', 0, $3)",
            [
                (
                    f"bench-shard-{i:02d}",
                    datetime(2026, 10, 1, tzinfo=UTC),
                    True if shape.heads_every else None,
                )
                for i in range(shape.shards)
            ],
        )
        for month in (Month(2026, 10), Month(2026, 11), Month(2026, 12)):  # the data's months
            await conn.execute(partition_ddl(month))  # (partitioned by month: migration 0010)
        for rows, checkpoint, signed in _rows(shape):
            await conn.copy_records_to_table("audit_records", records=rows, columns=COLUMNS)
            if signed:
                await conn.copy_records_to_table(
                    "audit_heads", records=signed, columns=HEAD_COLUMNS
                )
            if checkpoint is not None:
                await conn.execute(
                    "INSERT INTO audit_checkpoints (number, created_at, body, checkpoint_hash, "
                    "key_id, signature) VALUES ($1, $2, $3, $4, $5, $6)",
                    *_checkpoint_row(checkpoint),
                )
        for index in indexes:  # a partitioned parent's index reads "ON ONLY": on every partition
            await conn.execute(str(index["indexdef"]).replace(" ON ONLY ", " ON ", 1))
        await conn.execute("VACUUM ANALYZE audit_records")
    finally:
        await conn.close()


def _marker(shape: Shape) -> str:
    return json.dumps({"shape": shape.key(), "built": True})


async def dataset_sqlite(data: Path, shape: Shape, rebuild: bool) -> tuple[str, float | None]:
    """The data set's SQLite file (built if missing or ``rebuild``): (URL, seconds to build)."""
    path = data / f"audit-{shape.key()}.db"
    marker = path.with_suffix(".built")
    took = None
    if rebuild or not marker.exists():
        for old in data.glob("audit-*.db*"):
            old.unlink()
        for old in data.glob("audit-*.built"):
            old.unlink()
        data.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        await asyncio.to_thread(_build_sqlite, path, shape)
        took = round(time.perf_counter() - started, 1)
        marker.write_text(_marker(shape))
    return f"sqlite+aiosqlite:///{path}", took


async def dataset_postgres(
    server_url: str, shape: Shape, rebuild: bool, name: str = "panjereh_bench_audit_data"
) -> tuple[str, float | None]:
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    built = None
    try:
        conn = await asyncpg.connect(_dsn(url))
        try:
            built = await conn.fetchval("SELECT obj_description('audit_records'::regclass)")
        finally:
            await conn.close()
    except (asyncpg.PostgresError, OSError):
        built = None
    if not rebuild and built == _marker(shape):
        return url, None
    started = time.perf_counter()
    url = await _fresh_database(server_url, name)
    await _build_postgres(url, shape)
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute(f"COMMENT ON TABLE audit_records IS '{_marker(shape)}'")
    finally:
        await conn.close()
    return url, round(time.perf_counter() - started, 1)


# ---------------------------------------------------------------------------------------------
# (b) verification


async def _verify(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        report = await verify_log(engine, _public_key)
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    return {
        "records": report.summary.records,
        "shards": report.summary.shards,
        "checkpoints": report.checked,
        "seconds": round(elapsed, 2),
        "per_s": round(report.summary.records / elapsed),
        "problems": len(report.findings),
        "valid": not report.findings,
    }


# ---------------------------------------------------------------------------------------------
# (b') verification with a signed head after every 1, 10 and 1,000 records of a shard


def _spread(values: list[int]) -> dict[str, Any]:
    return {
        "runs": values,
        "median": round(statistics.median(values)),
        "min": min(values),
        "max": max(values),
        "spread_pct": round(100 * (max(values) - min(values)) / statistics.median(values), 1),
    }


def verify_heads(
    data: Path,
    backends: Sequence[str],
    server_url: str | None,
    *,
    records: int,
    every: Sequence[int],
    runs: int,
) -> dict[str, Any]:
    """The verify rate over data sets whose writers signed a head after every n records: the
    worst case is a writer whose batches all come more than PANJEREH_AUDIT_HEAD_SECONDS
    apart, so that each batch of n records signs one head. Each data set is built fresh (its
    own SQLite file, its own PostgreSQL database), verified ``runs`` times."""
    found: dict[str, Any] = {"records": records, "runs": runs, "every": list(every)}
    for backend in backends:
        out: dict[str, Any] = {}
        found[backend] = out
        for n in every:
            shape = Shape(records, 100, 1 if backend == "sqlite" else 2, 100_000, heads_every=n)
            if backend == "sqlite":
                url, took = asyncio.run(dataset_sqlite(data / f"heads-{n}", shape, True))
            else:
                assert server_url is not None
                url, took = asyncio.run(
                    dataset_postgres(server_url, shape, True, "panjereh_bench_audit_heads")
                )
            results = [_run_loop(functools.partial(_verify, url)) for _ in range(runs)]
            rates = [r["per_s"] for r in results]
            out[str(n)] = {
                "shards": shape.shards,
                "heads": records // n + shape.shards if n else 0,
                "built_in_s": took,
                "verify_per_s": _spread(rates),
                "seconds": [r["seconds"] for r in results],
                "problems": [r["problems"] for r in results],
                "valid": all(r["valid"] for r in results),
            }
            print(f"   {backend} heads every {n}: verify {rates} records/s", flush=True)
        if backend == "postgres" and server_url is not None:
            asyncio.run(_drop_database(server_url, "panjereh_bench_audit_heads"))
    return found


# ---------------------------------------------------------------------------------------------
# (d) the operator's audit pages: one page of 50 per filter, first and second page


def _browse_queries(keys: SubjectKeys) -> dict[str, RecordQuery]:
    start = datetime(2026, 10, 1, tzinfo=UTC)  # the data set spans 60 days from here
    service, consumer, _ = SERVICES[0]
    return {
        "nothing": RecordQuery(),
        "outcome failed": RecordQuery(outcome="failed"),
        "consumer system": RecordQuery(consumer=SERVICES[3][1]),
        "consumer agency": RecordQuery(consumer_agency=SERVICES[3][1].split("/")[0]),
        "since alone": RecordQuery(since=start + timedelta(days=30)),
        "period with an end (days 10-20)": RecordQuery(
            since=start + timedelta(days=10), until=start + timedelta(days=20)
        ),
        "until alone (day 5)": RecordQuery(until=start + timedelta(days=5)),
        "one service": RecordQuery(service_id=service),
        "one service, period with an end": RecordQuery(
            service_id=service, until=start + timedelta(days=20)
        ),
        "a national code": RecordQuery(subject_hashes=(keys.hash(CITIZEN),)),
        "a provider agency (2 services)": RecordQuery(
            provider_services=(SERVICES[1][0], SERVICES[2][0])
        ),
        "an agency administrator's own view": RecordQuery(
            scope=(consumer.split("/")[0], (SERVICES[4][0],))
        ),
    }


async def _browse(url: str, repeat: int = 5) -> dict[str, Any]:
    engine = create_engine(url)
    timings: dict[str, Any] = {}
    try:
        async with engine.connect() as conn:
            for name, query in _browse_queries(_subjects()).items():
                first = await records_page(conn, query, after=None, limit=50)  # warm
                cursor = RecordCursor.decode(first.next) if first.next else None
                one, two = [], []
                for _ in range(repeat):
                    started = time.perf_counter()
                    page = await records_page(conn, query, after=None, limit=50)
                    one.append(time.perf_counter() - started)
                    if cursor is not None:
                        started = time.perf_counter()
                        await records_page(conn, query, after=cursor, limit=50)
                        two.append(time.perf_counter() - started)
                timings[name] = {
                    "rows": len(page.rows),
                    "first_page_ms": round(statistics.median(one) * 1000, 2),
                    "second_page_ms": round(statistics.median(two) * 1000, 2) if two else None,
                }
    finally:
        await engine.dispose()
    return {"limit": 50, "repeat": repeat, "median": "of the repeats, warm", "filters": timings}


# ---------------------------------------------------------------------------------------------
# (c) the citizen page's p95


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def citizen_p95(url: str, requests: int, data_dir: Path) -> dict[str, Any]:
    """CITIZEN PAGE p95: ``GET /api/v1/me/inquiries`` (first 50 rows) against a real
    ``panjereh serve`` on a local socket, after the development sign-in; or, if the citizen
    API is not on this branch, the equivalent indexed query timed directly."""
    if importlib.util.find_spec("panjereh.web.api.citizen") is None:  # helper A's branch
        return asyncio.run(_citizen_query(url, requests))
    return _citizen_http(url, requests, data_dir)


async def _citizen_query(url: str, requests: int) -> dict[str, Any]:
    from sqlalchemy import select

    from panjereh.storage.tables import audit_records

    engine = create_engine(url)
    subject = _subjects().hash(CITIZEN)
    r = audit_records.c
    query = (
        select(r.exchange_id, r.created_at, r.consumer, r.service_id, r.purpose, r.outcome)
        .where(r.subject_hash == subject)
        .order_by(r.created_at.desc())
        .limit(50)
    )
    times = []
    try:
        for _ in range(requests):
            started = time.perf_counter()
            async with engine.connect() as conn:
                rows = (await conn.execute(query)).all()
            times.append((time.perf_counter() - started) * 1000)
    finally:
        await engine.dispose()
    return _latencies(times) | {
        "how": "indexed query, no HTTP (citizen API not on branch)",
        "rows": len(rows),
    }


def _latencies(times: list[float]) -> dict[str, Any]:
    ordered = sorted(times)
    return {
        "requests": len(times),
        "p50_ms": round(ordered[len(ordered) // 2], 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
        "max_ms": round(ordered[-1], 2),
    }


async def _citizen_tables(url: str) -> None:
    """A data set built while migration 0007 (the citizen view) was still an empty placeholder
    is marked as past it: run it now (stamp back to 0006, upgrade)."""
    from alembic import command
    from sqlalchemy import inspect
    from sqlalchemy.engine import Connection

    from panjereh.storage.migrate import alembic_config

    def again(connection: Connection) -> None:
        if inspect(connection).has_table("citizen_sessions"):
            return
        config = alembic_config()
        config.attributes["connection"] = connection
        command.stamp(config, "0006")
        command.upgrade(config, "head")

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(again)
    finally:
        await engine.dispose()


def _citizen_http(url: str, requests: int, data_dir: Path) -> dict[str, Any]:
    import re

    import httpx

    asyncio.run(_citizen_tables(url))
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")},
        "PANJEREH_ENV": "development",
        "PANJEREH_DATABASE_URL": url,
        "PANJEREH_DATA_DIR": str(data_dir),
        "PANJEREH_KEYS_DIR": str(SERVE_KEYS),
        "PANJEREH_API_KEY_PEPPER": PEPPER,
        "PANJEREH_HOST": "127.0.0.1",
        "PANJEREH_PORT": str(port),
        "PANJEREH_LOG_LEVEL": "info",
    }
    log = (data_dir / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "panjereh"), "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/dev/sign-in").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    error = (data_dir / "serve.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"panjereh serve did not start: {error}")
                time.sleep(0.5)
            form = client.get("/dev/sign-in")
            token = re.search(r'name="token" value="([^"]+)"', form.text)
            if token is None:
                raise RuntimeError("no sign-in token in the development sign-in form")
            signed = client.post(
                "/dev/sign-in",
                data={"token": token.group(1), "national_code": CITIZEN, "next": ""},
            )
            if signed.status_code not in (302, 303):
                error = (data_dir / "serve.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"development sign-in failed: {signed.status_code}\n{error}")
            for _ in range(5):  # warm-up
                client.get("/api/v1/me/inquiries", params={"limit": 50})
            times = []
            last = None
            for _ in range(requests):
                started = time.perf_counter()
                last = client.get("/api/v1/me/inquiries", params={"limit": 50})
                times.append((time.perf_counter() - started) * 1000)
                if last.status_code != 200:
                    raise RuntimeError(f"/api/v1/me/inquiries answered {last.status_code}")
            rows = len(last.json()["inquiries"]) if last is not None else 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    return _latencies(times) | {
        "how": "HTTP GET /api/v1/me/inquiries?limit=50 (httpx, one connection, sequential) "
        "against `panjereh serve` (one worker) on 127.0.0.1, development sign-in",
        "rows": rows,
    }


# ---------------------------------------------------------------------------------------------


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        check=False,
    )
    return done.stdout.decode().strip() or "unknown"


def _run_loop(coroutine: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    try:
        import uvloop

        return uvloop.run(coroutine())
    except ImportError:
        return asyncio.run(coroutine())


def _postgres_url() -> str | None:
    return os.environ.get("PANJEREH_BENCH_POSTGRES_URL") or os.environ.get(
        "PANJEREH_TEST_POSTGRES_URL"
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:  # noqa: C901
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--citizen-records", type=int, default=10_000)
    parser.add_argument("--checkpoint-every", type=int, default=100_000)
    parser.add_argument("--append-records", type=int, default=300_000)
    parser.add_argument("--concurrency", type=int, default=4000, help="concurrent record() calls")
    parser.add_argument("--requests", type=int, default=200, help="citizen page requests")
    parser.add_argument("--data", type=Path, default=ROOT / "var" / "bench" / "audit")
    parser.add_argument("--rebuild", action="store_true", help="build the data set again")
    parser.add_argument("--only", default="append,verify,citizen,browse")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--heads-every", default="1,10,1000", help="with --only heads: records per signed head"
    )
    parser.add_argument("--heads-records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="with --only heads: runs per set")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    backends = args.backends.split(",")
    if only == {"heads"}:  # merged into the results file under "verify_heads"
        return _heads_main(args, backends)
    started = time.time()
    result: dict[str, Any] = {
        "benchmark": "audit",
        "started_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "machine": machine(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "targets": TARGETS,
        "notes": [],
    }
    server_url = _postgres_url()
    if "postgres" in backends and server_url is None:
        result["notes"].append(
            "PostgreSQL skipped: set PANJEREH_BENCH_POSTGRES_URL (or PANJEREH_TEST_POSTGRES_URL)"
        )
        backends = [b for b in backends if b != "postgres"]
    shape_pg = Shape(args.records, args.citizen_records, 2, args.checkpoint_every)
    shape_sqlite = Shape(args.records, args.citizen_records, 1, args.checkpoint_every)
    for backend in backends:
        out: dict[str, Any] = {}
        result[backend] = out
        print(f"== {backend}", flush=True)
        if "append" in only:
            if backend == "sqlite":
                folder = Path(tempfile.mkdtemp(prefix="bench-audit-"))
                try:
                    url = f"sqlite+aiosqlite:///{folder / 'append.db'}"
                    out["append"] = _run_loop(
                        functools.partial(_append, url, args.append_records, args.concurrency)
                    )
                finally:
                    shutil.rmtree(folder)
                out["append"]["database"] = "SQLite file (WAL, synchronous=FULL), fresh, ext4"
            else:
                assert server_url is not None
                name = "panjereh_bench_audit_append"
                url = asyncio.run(_fresh_database(server_url, name))
                try:
                    out["append"] = _run_loop(
                        functools.partial(_append, url, args.append_records, args.concurrency)
                    )
                finally:
                    asyncio.run(_drop_database(server_url, name))
                out["append"]["database"] = "PostgreSQL, fresh database (one COPY per batch)"
                url = asyncio.run(_fresh_database(server_url, name))
                try:
                    asyncio.run(_migrate(url))
                    out["append_workers"] = _append_workers(
                        url, 2, args.append_records, args.concurrency
                    )
                finally:
                    asyncio.run(_drop_database(server_url, name))
                print(f"   append, 2 workers: {out['append_workers']['per_s']:,}/s", flush=True)
            print(f"   append: {out['append']['per_s']:,}/s", flush=True)
        if only & {"verify", "citizen", "browse"}:
            shape = shape_sqlite if backend == "sqlite" else shape_pg
            if backend == "sqlite":
                url, took = asyncio.run(dataset_sqlite(args.data, shape, args.rebuild))
            else:
                assert server_url is not None
                url, took = asyncio.run(dataset_postgres(server_url, shape, args.rebuild))
            out["dataset"] = {
                "records": shape.records,
                "citizen_records": shape.citizen_records,
                "shards": shape.shards,
                "checkpoint_every": shape.checkpoint_every,
                "built_in_s": took,
                "cached": took is None,
            }
            print(f"   dataset: built in {took} s" if took else "   dataset: cached", flush=True)
            if "verify" in only:
                out["verify"] = _run_loop(functools.partial(_verify, url))
                print(f"   verify: {out['verify']['per_s']:,}/s", flush=True)
            if "browse" in only:
                out["browse"] = _run_loop(functools.partial(_browse, url))
                slowest = max(f["first_page_ms"] for f in out["browse"]["filters"].values())
                print(f"   browse: slowest first page {slowest} ms", flush=True)
            if "citizen" in only:
                data_dir = Path(tempfile.mkdtemp(prefix="bench-audit-serve-"))
                try:
                    out["citizen"] = citizen_p95(url, args.requests, data_dir)
                finally:
                    shutil.rmtree(data_dir, ignore_errors=True)
                print(f"   citizen p95: {out['citizen']['p95_ms']} ms", flush=True)
    checks = []
    for backend in backends:
        out = result[backend]
        if "append_workers" in out:
            workers = out["append_workers"]
            checks.append(
                {
                    "check": f"{backend} append, {workers['workers']} workers "
                    f">= {TARGETS['append_per_s']:,}/s",
                    "ok": workers["per_s"] >= TARGETS["append_per_s"],
                    "detail": f"{workers['per_s']:,}/s",
                }
            )
        if "append" in out:
            checks.append(
                {
                    "check": f"{backend} append >= {TARGETS['append_per_s']:,}/s",
                    "ok": out["append"]["per_s"] >= TARGETS["append_per_s"],
                    "detail": f"{out['append']['per_s']:,}/s",
                }
            )
        if "verify" in out:
            checks.append(
                {
                    "check": f"{backend} verify >= {TARGETS['verify_per_s']:,}/s",
                    "ok": out["verify"]["per_s"] >= TARGETS["verify_per_s"],
                    "detail": f"{out['verify']['per_s']:,}/s",
                }
            )
        if "citizen" in out:
            checks.append(
                {
                    "check": f"{backend} citizen page p95 < {TARGETS['citizen_p95_ms']} ms",
                    "ok": out["citizen"]["p95_ms"] < TARGETS["citizen_p95_ms"],
                    "detail": f"{out['citizen']['p95_ms']} ms ({out['citizen']['how']})",
                }
            )
    result["target_checks"] = checks
    validity = [
        {
            "check": f"{backend} {part}: every record stored / verified without a problem",
            "ok": bool(result[backend][part]["valid"]),
        }
        for backend in backends
        for part in ("append", "append_workers", "verify")
        if part in result[backend]
    ]
    result["validity"] = validity
    result["valid"] = all(v["ok"] for v in validity)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["elapsed_s"] = round(time.time() - started, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


def _heads_main(args: argparse.Namespace, backends: list[str]) -> dict[str, Any]:
    server_url = _postgres_url()
    if server_url is None:
        backends = [b for b in backends if b != "postgres"]
    started = time.time()
    found = verify_heads(
        args.data / "heads",
        backends,
        server_url,
        records=args.heads_records,
        every=[int(n) for n in args.heads_every.split(",")],
        runs=args.runs,
    )
    found.update(
        started_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        commit=_commit(),
        load_average_at_end=[round(x, 2) for x in os.getloadavg()],
        elapsed_s=round(time.time() - started, 1),
    )
    result: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    result["verify_heads"] = found
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


if __name__ == "__main__":
    main()
