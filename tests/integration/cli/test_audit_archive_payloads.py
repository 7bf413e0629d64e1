"""Kept payloads in retention, on SQLite and PostgreSQL: `panjereh audit archive` puts a
month's sealed payloads after their records (format panjereh.audit-archive/2),
`verify-archive` covers them, and `detach` removes them from audit_payloads in the same
transaction as the month's records — the one sanctioned way past their append-only trigger."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.archive import statement
from panjereh.audit.payloads import KeptPayloads, PayloadKeys
from panjereh.config import Settings
from panjereh.domain.clock import SystemClock
from panjereh.storage import archive_repo
from panjereh.storage.archive_repo import ArchiveError
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.tables import audit_archives, audit_payloads, audit_records, registry_events
from panjereh.web.runtime import exchange_keys
from tests.integration.cli.runner import Cli
from tests.integration.cli.test_audit_archive_cli import NOVEMBER, OCTOBER, _at

KEYS = PayloadKeys(bytes(range(32)), key_id="payload-1")
DETACH = ["--actor", "alice", "--reason", "retention: 1 month"]
KEPT_RECORDS, KEPT_PAYLOADS = "audit_archived_y2026m10", "audit_archived_y2026m10_payloads"


def _kept(n: int) -> KeptPayloads:
    return KeptPayloads(
        _at(n, OCTOBER).exchange_id, b'{"national_code":"%d"}' % n, b'{"ok":%d}' % n
    )


@pytest.fixture
async def log(cli: Cli, engine: AsyncEngine) -> AsyncIterator[None]:
    """One shard: #1-4 in October, #2 and #3 with kept payloads (checkpoint 1); #5 in
    November with its payloads (checkpoint 2)."""
    store = SqlAuditStore(engine, payload_keys=KEYS)
    try:
        await store.append_with_payloads(
            [_at(n, OCTOBER) for n in (1, 2, 3, 4)], [_kept(2), _kept(3)]
        )
        assert (await cli("audit", "checkpoint")).code == 0
        november = _at(5, NOVEMBER)
        await store.append_with_payloads(
            [november], [KeptPayloads(november.exchange_id, b"{}", b"{}")]
        )
        assert (await cli("audit", "checkpoint")).code == 0
        yield
    finally:
        await store.close()
        if engine.dialect.name == "postgresql":  # the session's database outlives the test
            async with engine.begin() as conn:
                for table in (KEPT_RECORDS, KEPT_PAYLOADS):
                    await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))


async def _archive(cli: Cli, tmp_path: Path) -> Path:
    out = tmp_path / "audit-2026-10.jsonl"
    done = await cli("audit", "archive", "--month", "2026-10", "--out", str(out))
    assert done.code == 0, done.err
    assert done.out.startswith(
        f"archived 2026-10: 4 records of 1 shards, 4 kept payloads and 1 checkpoints to {out}, "
    )
    return out


async def _payloads(engine: AsyncEngine) -> list[tuple[str, str, str, bytes, bytes]]:
    p = audit_payloads.c
    async with engine.connect() as conn:
        rows = await conn.execute(select(audit_payloads).order_by(p.exchange_id, p.kind))
        return [
            (r.exchange_id, r.kind, r.key_id, bytes(r.nonce), bytes(r.ciphertext)) for r in rows
        ]


async def _records(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return len((await conn.execute(select(audit_records.c.id))).all())


async def _as_owner(engine: AsyncEngine, statement_: str, **values: object) -> None:
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            await conn.execute(text("DROP TRIGGER IF EXISTS audit_payloads_no_delete"))
            await conn.execute(text("DROP TRIGGER IF EXISTS audit_payloads_no_update"))
        await conn.execute(text(statement_), values)


def _resign(path: Path, lines: list[bytes]) -> None:
    """Rewrite an archive with these lines and a fresh trailer signed by the exchange's own
    key: what only a faulty writer would make, to show the payload checks themselves."""
    body = [line for line in lines if b'"trailer"' not in line]
    header = orjson.loads(body[0])
    digest = hashlib.sha256(b"".join(body)).hexdigest()
    records = [line for line in body[1:] if b'"record"' in line and b'"payload"' not in line]
    payloads = [line for line in body if line.startswith(b'{"payload"')]
    keys = exchange_keys(Settings(), SystemClock())
    signature = keys.private_key.sign(statement(digest, header["format"]))
    trailer = {
        "sha256": digest,
        "records_sha256": hashlib.sha256(b"".join(records)).hexdigest(),
        "payloads_sha256": hashlib.sha256(b"".join(payloads)).hexdigest(),
        "key_id": keys.active_id,
        "signature": base64.b64encode(signature).decode(),
    }
    path.write_bytes(
        b"".join(body) + orjson.dumps({"trailer": trailer}, option=orjson.OPT_SORT_KEYS) + b"\n"
    )


@pytest.mark.usefixtures("log")
async def test_the_months_payloads_are_archived_sealed_and_detached_with_its_records(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    stored = await _payloads(engine)
    october = [row for row in stored if row[0] in {_kept(2).exchange_id, _kept(3).exchange_id}]
    assert len(october) == 4
    out = await _archive(cli, tmp_path)
    lines = out.read_bytes().splitlines(keepends=True)
    header = orjson.loads(lines[0])
    assert (header["format"], header["records"], header["payloads"]) == (
        "panjereh.audit-archive/2",
        4,
        4,
    )
    kinds = ["payload" if line.startswith(b'{"payload"') else "record" for line in lines[2:-1]]
    assert kinds == [
        "record",
        "record",
        "payload",
        "payload",
        "record",
        "payload",
        "payload",
        "record",
    ]
    archived = [orjson.loads(line)["payload"] for line in lines if line.startswith(b'{"payload"')]
    assert [
        (
            p["exchange_id"],
            p["kind"],
            p["key_id"],
            base64.b64decode(p["nonce"]),
            base64.b64decode(p["ciphertext"]),
        )
        for p in archived
    ] == october  # ciphertext as stored, never opened
    assert b"national_code" not in out.read_bytes()
    trailer = orjson.loads(lines[-1])["trailer"]
    assert set(trailer) == {"sha256", "records_sha256", "payloads_sha256", "key_id", "signature"}

    checked = await cli("audit", "verify-archive", str(out))
    assert checked.code == 0, checked.out
    assert checked.out.startswith(
        "verified: 2026-10, 4 records of 1 shards, 4 kept payloads, 1 checkpoints "
    )

    detached = await cli("audit", "detach", "--month", "2026-10", "--archive", str(out), *DETACH)
    assert detached.code == 0, detached.err
    assert detached.out.startswith(
        "detached 2026-10: 4 records of 1 shards and 4 kept payloads (dropped); archive sha256 "
    )
    assert await _records(engine) == 1
    assert await _payloads(engine) == [row for row in stored if row not in october]
    async with engine.connect() as conn:
        event = (await conn.execute(select(registry_events))).mappings().one()
        row = (await conn.execute(select(audit_archives))).mappings().one()
    assert event["after"] == {
        "records": 4,
        "shards": 1,
        "file_sha256": trailer["sha256"],
        "kept_as": None,
        "payloads": 4,
    }
    assert (row["records"], row["file_sha256"]) == (4, trailer["sha256"])
    # The append-only trigger is back: nothing else removes a payload.
    for sql in ("DELETE FROM audit_payloads", "UPDATE audit_payloads SET key_id = 'x'"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(sql))
    verified = await cli("audit", "verify")
    assert verified.code == 0, verified.out


@pytest.mark.usefixtures("log")
async def test_verify_archive_names_a_changed_moved_or_counted_wrong_payload(
    cli: Cli, tmp_path: Path
) -> None:
    out = await _archive(cli, tmp_path)
    lines = out.read_bytes().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(b'{"payload"'))
    document = orjson.loads(lines[at])
    document["payload"]["ciphertext"] = base64.b64encode(b"\x00" * 40).decode()
    changed = tmp_path / "changed.jsonl"
    changed.write_bytes(b"".join([*lines[:at], orjson.dumps(document) + b"\n", *lines[at + 1 :]]))
    done = await cli("audit", "verify-archive", str(changed))
    assert done.code == 1
    assert done.out.splitlines()[0] == (
        f"digest (line {len(lines)}): the content is not what the trailer's SHA-256 says"
    )

    moved = tmp_path / "moved.jsonl"  # the first record's line after its payloads
    _resign(moved, [*lines[: at - 1], lines[at], lines[at + 1], lines[at - 1], *lines[at + 2 :]])
    done = await cli("audit", "verify-archive", str(moved))
    assert done.code == 1
    exchange_id = _kept(2).exchange_id
    assert done.out.splitlines()[0] == (
        f"payload (line {at}): the request payload of {exchange_id} does not follow its record"
    )

    twice = tmp_path / "twice.jsonl"
    _resign(twice, [*lines[: at + 1], lines[at], *lines[at + 1 :]])
    done = await cli("audit", "verify-archive", str(twice))
    assert done.code == 1
    assert done.out.splitlines()[0] == (
        f"payload (line {at + 2}): {exchange_id}: a 'request' payload here is not allowed"
    )
    assert "header: the header's counts do not match the file" in done.out

    header = orjson.loads(lines[0])
    header["format"] = "panjereh.audit-archive/1"
    del header["payloads"]
    older = tmp_path / "format-1.jsonl"
    _resign(older, [orjson.dumps(header, option=orjson.OPT_SORT_KEYS) + b"\n", *lines[1:]])
    done = await cli("audit", "verify-archive", str(older))
    assert done.code == 1
    assert done.out.splitlines()[0] == (
        f"payload (line {at + 1}): a format 1 archive holds no payloads ({exchange_id})"
    )


@pytest.mark.usefixtures("log")
async def test_detach_refuses_an_archive_that_does_not_hold_the_live_payloads(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    out = await _archive(cli, tmp_path)
    before = await _payloads(engine)
    await _as_owner(
        engine, "DELETE FROM audit_payloads WHERE exchange_id = :e AND kind = 'response'",
        e=_kept(3).exchange_id,
    )  # fmt: skip
    refused = await cli("audit", "detach", "--month", "2026-10", "--archive", str(out), *DETACH)
    assert refused.code == 2
    assert refused.err == (
        "error: the archive does not match the kept payloads of 2026-10 (3 live, 4 archived): "
        "make a new archive\n"
    )
    assert await _records(engine) == 5
    assert len(await _payloads(engine)) == len(before) - 1
    async with engine.connect() as conn:
        assert (await conn.execute(select(audit_archives))).all() == []


async def test_detach_refuses_an_archive_of_format_1_for_a_month_that_has_payloads(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    """An archive made while the month had no payload (format 1, as before format 2), and
    payloads of its records present now: the archive does not hold them."""
    store = SqlAuditStore(engine)
    try:
        await store.append([_at(n, OCTOBER) for n in (1, 2)])
    finally:
        await store.close()
    assert (await cli("audit", "checkpoint")).code == 0
    out = tmp_path / "audit-2026-10.jsonl"
    assert (await cli("audit", "archive", "--month", "2026-10", "--out", str(out))).code == 0
    assert orjson.loads(out.read_bytes().splitlines()[0])["format"] == "panjereh.audit-archive/1"
    nonce, sealed = bytes(12), bytes(32)
    async with engine.begin() as conn:
        await conn.execute(
            audit_payloads.insert().values(
                exchange_id=_at(1, OCTOBER).exchange_id,
                kind="request",
                key_id="payload-1",
                nonce=nonce,
                ciphertext=sealed,
            )
        )
    refused = await cli("audit", "detach", "--month", "2026-10", "--archive", str(out), *DETACH)
    assert refused.code == 2
    assert refused.err == (
        "error: the archive (format panjereh.audit-archive/1) holds no kept payloads and "
        "2026-10's records have 1: make a new archive\n"
    )
    assert (await _records(engine), len(await _payloads(engine))) == (2, 1)


@pytest.mark.usefixtures("log")
async def test_a_detach_that_fails_after_the_payloads_leaves_them_and_their_trigger(
    cli: Cli, engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payloads go in the detach's own transaction: a failure after them rolls them back."""
    out = await _archive(cli, tmp_path)
    before = await _payloads(engine)

    async def failing(*_: object, **__: object) -> None:
        raise ArchiveError("2026-10 changed while detaching (3 rows): try again")

    monkeypatch.setattr(archive_repo, "_detach_sqlite", failing)
    monkeypatch.setattr(archive_repo, "_detach_postgres", failing)
    refused = await cli("audit", "detach", "--month", "2026-10", "--archive", str(out), *DETACH)
    assert refused.code == 2
    assert refused.err == "error: 2026-10 changed while detaching (3 rows): try again\n"
    assert await _payloads(engine) == before
    assert await _records(engine) == 5
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_payloads"))


@pytest.mark.usefixtures("log")
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_keep_keeps_the_months_payloads_beside_its_records_on_postgresql(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    out = await _archive(cli, tmp_path)
    stored = await _payloads(engine)
    detached = await cli(
        "audit", "detach", "--month", "2026-10", "--archive", str(out), "--keep", *DETACH
    )
    assert detached.code == 0, detached.err
    assert detached.out.startswith(
        f"detached 2026-10: 4 records of 1 shards and 4 kept payloads (kept as {KEPT_RECORDS}); "
    )
    async with engine.connect() as conn:
        kept = (
            await conn.execute(
                text(
                    f"SELECT exchange_id, kind, key_id, nonce, ciphertext FROM {KEPT_PAYLOADS} "  # noqa: S608
                    "ORDER BY exchange_id, kind"
                )
            )
        ).all()
    live = await _payloads(engine)
    assert [tuple(r) for r in kept] == [row for row in stored if row not in live]
    assert len(kept) == 4
    assert len(live) == 2
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text(f"DELETE FROM {KEPT_PAYLOADS}"))  # noqa: S608
    assert (await cli("audit", "verify")).code == 0
