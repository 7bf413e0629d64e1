"""Retention end to end, on SQLite and PostgreSQL: `panjereh audit archive` writes a signed
month, `verify-archive` checks it and names what was changed, `detach` takes the month out of
the live log only with an archive that matches it, and `verify` still passes afterwards."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.records import AuditRecord
from panjereh.storage import archive_repo
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.tables import audit_archives, audit_records, registry_events
from tests.integration.cli.runner import Cli, Outcome
from tests.integration.storage.tampering import tamper
from tests.integration.storage.test_audit_verify import _record

OCTOBER = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def _at(n: int, moment: datetime, shard_tag: str = "a") -> AuditRecord:
    base = _record(n)
    return replace(
        base,
        exchange_id=f"0190f3c2-{shard_tag * 4}-7000-8000-{n:012d}",
        created_at=moment + timedelta(seconds=n),
    )


@pytest.fixture
async def log(cli: Cli, engine: AsyncEngine) -> AsyncIterator[None]:
    """Shard A: #1-2 in October (checkpoint 1), #3-4 in October and #5-6 in November
    (checkpoint 2, across the month's end), #7 in November (checkpoint 3); shard B: #1-2 in
    October (checkpoint 1)."""
    a, b = SqlAuditStore(engine), SqlAuditStore(engine)
    try:
        await a.append([_at(n, OCTOBER) for n in (1, 2)])
        await b.append([_at(n, OCTOBER, "b") for n in (1, 2)])
        assert (await cli("audit", "checkpoint")).code == 0
        await a.append([_at(3, OCTOBER), _at(4, OCTOBER), _at(5, NOVEMBER), _at(6, NOVEMBER)])
        assert (await cli("audit", "checkpoint")).code == 0
        await a.append([_at(7, NOVEMBER)])
        assert (await cli("audit", "checkpoint")).code == 0
        yield
    finally:
        await a.close()
        await b.close()
        if engine.dialect.name == "postgresql":  # the session's database outlives the test
            async with engine.begin() as conn:
                await conn.execute(text("DROP TABLE IF EXISTS audit_archived_y2026m10"))


async def _archive(cli: Cli, tmp_path: Path, month: str = "2026-10") -> Path:
    out = tmp_path / f"audit-{month}.jsonl"
    done = await cli("audit", "archive", "--month", month, "--out", str(out))
    assert done.code == 0, done.err
    return out


async def _detach(
    cli: Cli, archive: Path, *extra: str, month: str = "2026-10", reason: str = "retention"
) -> Outcome:
    return await cli(
        "audit", "detach", "--month", month, "--archive", str(archive), *extra,
        "--actor", "alice", "--reason", reason,
    )  # fmt: skip


async def _detached(cli: Cli, tmp_path: Path) -> None:
    """October archived, and detached with that archive."""
    done = await _detach(cli, await _archive(cli, tmp_path))
    assert done.code == 0, done.err


async def _write(engine: AsyncEngine, records: list[AuditRecord]) -> None:
    """``records`` appended by one writer (one shard of its own)."""
    store = SqlAuditStore(engine)
    try:
        await store.append(records)
    finally:
        await store.close()


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return len((await conn.execute(select(audit_records.c.id))).all())


@pytest.mark.usefixtures("log")
async def test_a_month_is_archived_verified_detached_and_the_live_log_still_verifies(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    out = await _archive(cli, tmp_path)
    lines = out.read_bytes().splitlines()
    header = orjson.loads(lines[0])
    assert header["format"] == "panjereh.audit-archive/1"
    assert header["month"] == "2026-10"
    assert header["records"] == 6
    assert header["checkpoints"] == [1, 2]
    assert sorted((v["first"], v["last"]) for v in header["shards"].values()) == [(1, 2), (1, 4)]
    assert len(lines) == 1 + 2 + 6 + 1
    assert set(orjson.loads(lines[-1])["trailer"]) == {
        "sha256",
        "records_sha256",
        "key_id",
        "signature",
    }

    checked = await cli("audit", "verify-archive", str(out))
    assert checked.code == 0, checked.out
    assert checked.out.splitlines()[0].startswith(
        "verified: 2026-10, 6 records of 2 shards, 2 checkpoints (1 Merkle roots checked, "
        "1 reaching past the month), signed by exchange-"
    )

    detached = await _detach(cli, out, reason="retention: 1 month")
    assert detached.code == 0, detached.err
    assert detached.out.startswith("detached 2026-10: 6 records of 2 shards (dropped); archive ")
    assert await _count(engine) == 3
    async with engine.connect() as conn:
        row = (await conn.execute(select(audit_archives))).mappings().one()
        event = (await conn.execute(select(registry_events))).mappings().one()
    assert row["month"] == "2026-10"
    assert row["records"] == 6
    assert row["file_sha256"] == orjson.loads(lines[-1])["trailer"]["sha256"]
    assert sorted(row["cuts"].values(), key=lambda v: v[0]) == sorted(
        ([v["last"], v["head"]] for v in header["shards"].values()), key=lambda v: v[0]
    )
    shard_a = next(s for s, v in header["shards"].items() if v["last"] == 4)
    hashes = {
        str(r["seq"]): r["record_hash"]
        for r in map(orjson.loads, lines[3:9])
        if r["shard"] == shard_a and r["seq"] >= 3
    }
    assert row["boundary"] == {shard_a: hashes}  # checkpoint 2's archived records
    assert sorted(hashes) == ["3", "4"]
    assert (event["actor"], event["action"], event["object_id"], event["reason"]) == (
        "cli:alice",
        "audit.detach",
        "2026-10",
        "retention: 1 month",
    )

    verified = await cli("audit", "verify")
    assert verified.code == 0, verified.out
    assert verified.out.splitlines()[0] == (
        "3 records in 1 shards and 3 checkpoints checked; 0 problems"
    )
    listed = await cli("audit", "partitions")
    assert listed.code == 0
    months = [line.split()[:3] for line in listed.out.splitlines()]
    assert ["2026-10", "archived", "-"] in months
    assert ["2026-11", "live", "3"] in months


@pytest.mark.usefixtures("log")
async def test_after_a_detach_verify_still_names_a_changed_live_record_and_a_changed_cut(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    await _detached(cli, tmp_path)
    await tamper(engine, "UPDATE audit_records SET status_code = 500 WHERE seq = 6")
    changed = await cli("audit", "verify")
    assert changed.code == 1
    assert changed.out.splitlines()[0].startswith("broken-link: shard ")
    assert ", #6 (0190f3c2-aaaa-7000-8000-000000000006): " in changed.out
    # The boundary hash kept for checkpoint 2 (which reaches across the cut) is changed:
    bad = "00" * 32
    if engine.dialect.name == "postgresql":
        statement = f"""UPDATE audit_archives SET boundary = jsonb_set(boundary,
            ARRAY[(SELECT k FROM jsonb_object_keys(boundary) k LIMIT 1), '3'], '"{bad}"')"""  # noqa: S608
    else:
        statement = f"""UPDATE audit_archives SET boundary = json_set(boundary,
            '$."' || (SELECT key FROM json_each(boundary) LIMIT 1) || '"."3"', '{bad}')"""  # noqa: S608
    await tamper(engine, "UPDATE audit_records SET status_code = 200 WHERE seq = 6")
    await tamper(engine, statement)
    merkle = await cli("audit", "verify")
    assert merkle.code == 1
    assert merkle.out.splitlines()[0] == (
        "merkle: checkpoint 2: its 4 records, archived and live, no longer give its Merkle "
        "root (4 found)"
    )


@pytest.mark.usefixtures("log")
async def test_a_changed_archive_is_named_and_cannot_detach_the_month(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    out = await _archive(cli, tmp_path)
    lines = out.read_bytes().splitlines(keepends=True)
    record = orjson.loads(lines[4])
    record["record"]["status_code"] = 404
    lines[4] = orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n"
    out.write_bytes(b"".join(lines))
    checked = await cli("audit", "verify-archive", str(out))
    assert checked.code == 1
    first = checked.out.splitlines()[0]
    assert first.startswith(f"broken-link (line 5): shard {record['shard']} #{record['seq']} (")
    assert "digest (line 10): the content is not what the trailer's SHA-256 says" in checked.out
    refused = await _detach(cli, out)
    assert refused.code == 2
    assert "the archive does not verify: broken-link (line 5)" in refused.err
    assert await _count(engine) == 9
    cut_short = tmp_path / "short.jsonl"
    cut_short.write_bytes(b"".join(lines[:-1]))
    short = await cli("audit", "verify-archive", str(cut_short))
    assert short.code == 1
    assert short.out.splitlines()[-2] == "not-an-archive: no trailer: the file was cut short"


@pytest.mark.usefixtures("log")
async def test_detach_refuses_a_month_out_of_order_a_stale_archive_and_an_open_month(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    november = await _archive(cli, tmp_path, "2026-11")
    early = await _detach(cli, november, month="2026-11")
    assert early.code == 2
    assert "records #1 to #4 are still in the live log (an earlier month)" in early.err
    october = await _archive(cli, tmp_path)
    wrong = await _detach(cli, october, month="2026-11")
    assert wrong.code == 2
    assert "the archive is of 2026-10, not of 2026-11" in wrong.err
    # A record of October arrives late (written by a writer that was cut off): stale archive.
    await _write(engine, [_at(9, OCTOBER, "c")])
    stale = await _detach(cli, october)
    assert stale.code == 2
    assert "the archive does not match the live records of 2026-10 (7 live, 6 archived)" in (
        stale.err
    )
    now = datetime.now(UTC)
    month = f"{now.year:04d}-{now.month:02d}"
    empty = await cli("audit", "archive", "--month", month, "--out", str(tmp_path / "x"))
    assert empty.code == 2
    assert f"the live log has no records of {month}" in empty.err
    assert await _count(engine) == 10


async def test_a_month_not_yet_checkpointed_is_not_archived(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    await _write(engine, [_at(n, OCTOBER) for n in (1, 2)])
    out = tmp_path / "a.jsonl"
    done = await cli("audit", "archive", "--month", "2026-10", "--out", str(out))
    assert done.code == 2
    assert "are in no signed checkpoint yet: run `panjereh audit checkpoint` first" in done.err
    assert not out.exists()
    bad = await cli("audit", "archive", "--month", "2026-13", "--out", str(out))
    assert bad.code == 2
    assert "--month: '2026-13' is not a month (YYYY-MM, e.g. 2026-11)" in bad.err


@pytest.mark.usefixtures("log")
async def test_keep_leaves_the_month_as_an_append_only_table_on_postgres_only(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    done = await _detach(cli, await _archive(cli, tmp_path), "--keep")
    if engine.dialect.name == "sqlite":
        assert done.code == 2
        assert "--keep needs PostgreSQL's partitions" in done.err
        assert await _count(engine) == 9
        return
    assert done.code == 0, done.err
    assert "(kept as audit_archived_y2026m10)" in done.out
    assert await _count(engine) == 3
    async with engine.connect() as conn:
        kept = await conn.scalar(text("SELECT count(*) FROM audit_archived_y2026m10"))
    assert kept == 6
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_archived_y2026m10"))
    listed = await cli("audit", "partitions")
    assert "2026-10  detached           6  audit_archived_y2026m10" in listed.out
    assert (await cli("audit", "verify")).code == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.usefixtures("log")
async def test_on_sqlite_the_append_only_trigger_is_back_after_a_detach(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    await _detached(cli, tmp_path)
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_records"))
    assert await _count(engine) == 3


async def test_a_month_whose_records_interleave_with_the_next_is_not_archived(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    """#2 is dated in November but #3 in October again (the clock was set back): October's
    records of the shard are not one run, so no archive can cut it off cleanly."""
    await _write(engine, [_at(1, OCTOBER), _at(2, NOVEMBER), _at(3, OCTOBER)])
    assert (await cli("audit", "checkpoint")).code == 0
    out = tmp_path / "a.jsonl"
    done = await cli("audit", "archive", "--month", "2026-10", "--out", str(out))
    assert done.code == 2
    assert ": 1 of its records #1 to #3 are not dated in 2026-10 (a clock set back" in done.err
    assert not out.exists()


async def test_partitions_lists_the_months_with_their_rows_and_ensure_makes_the_coming_ones(
    cli: Cli, engine: AsyncEngine
) -> None:
    await _write(engine, [_at(1, OCTOBER), _at(2, OCTOBER), _at(3, NOVEMBER)])
    done = await cli("audit", "partitions", "--ensure")
    assert done.code == 0
    lines = [line for line in done.out.splitlines() if not line.startswith("created ")]
    now = datetime.now(UTC)
    this_month = f"{now.year:04d}-{now.month:02d}"
    if engine.dialect.name == "sqlite":
        assert lines == [
            "2026-10  live               2  audit_records",
            "2026-11  live               1  audit_records",
        ]
        return
    assert "2026-10  live               2  audit_records_y2026m10" in lines
    assert "2026-11  live               1  audit_records_y2026m11" in lines
    assert f"{this_month}  live               0  audit_records_y{now.year:04d}m{now.month:02d}" in (
        lines
    )


@pytest.mark.usefixtures("log")
async def test_a_detach_that_fails_half_way_changes_nothing(
    cli: Cli, engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows are gone and the trigger is being put back when the database fails: the one
    transaction rolls back, trigger, rows, archive row and event alike."""
    out = await _archive(cli, tmp_path)
    if engine.dialect.name == "sqlite":
        monkeypatch.setattr(archive_repo, "_SQLITE_TRIGGER", "CREATE TRIGGER broken")
    else:
        monkeypatch.setattr(archive_repo, "KEPT_PREFIX", "no such table;")
    keep = ("--keep",) if engine.dialect.name == "postgresql" else ()
    failed = await _detach(cli, out, *keep)
    assert failed.code == 2
    assert "cannot change the audit log" in failed.err
    assert await _count(engine) == 9
    async with engine.connect() as conn:
        assert (await conn.execute(select(audit_archives.c.id))).all() == []
        assert (await conn.execute(select(registry_events.c.id))).all() == []
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_records"))
    assert (await cli("audit", "verify")).code == 0


async def test_an_archive_signed_by_a_key_not_published_is_refused(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    await _write(engine, [_at(1, OCTOBER)])
    assert (await cli("audit", "checkpoint")).code == 0
    out = await _archive(cli, tmp_path)
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    key_id = orjson.loads(out.read_bytes().splitlines()[-1])["trailer"]["key_id"]
    x = base64.urlsafe_b64encode(other).rstrip(b"=").decode()
    jwks = tmp_path / "other.json"
    jwks.write_bytes(
        orjson.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": key_id, "x": x}]})
    )
    done = await cli("audit", "verify-archive", str(out), "--keys", str(jwks))
    assert done.code == 1
    assert done.out.splitlines() == [
        f"bad-signature (line 2): checkpoint 1: the signature does not verify with the "
        f"published key {key_id!r}",
        f"bad-signature (line 4): the archive's signature does not verify with the published "
        f"key {key_id!r}",
        "not verified: 2 problems",
    ]


@pytest.mark.usefixtures("log")
async def test_a_live_record_in_a_checkpoint_reaching_across_the_cut_is_still_proven(
    cli: Cli, tmp_path: Path
) -> None:
    """Shard A's #5 is live; its checkpoint 2 also covers #3 and #4, archived and detached:
    the proof's path is built with their kept hashes and checks offline as before."""
    await _detached(cli, tmp_path)
    exchange_id = _at(5, NOVEMBER).exchange_id
    proven = await cli("audit", "prove", exchange_id)
    assert proven.code == 0, proven.err
    proof = tmp_path / "proof.json"
    proof.write_text(proven.out)
    document = orjson.loads(proven.out)
    assert (document["seq"], document["leaf_index"], document["checkpoint"]["number"]) == (5, 2, 2)
    checked = await cli("audit", "check-proof", str(proof))
    assert checked.code == 0, checked.out
    assert checked.out.startswith(f"proven: inquiry {exchange_id} (")


@pytest.mark.usefixtures("log")
async def test_a_window_that_begins_right_after_the_cut_verifies(cli: Cli, tmp_path: Path) -> None:
    await _detached(cli, tmp_path)
    window = await cli("audit", "verify", "--since", "2026-11-01", "--until", "2026-12-01")
    assert window.code == 0, window.out
    assert window.out.splitlines()[0].startswith("3 records in 1 shards and ")
    assert window.out.splitlines()[0].endswith(" checked; 0 problems")
