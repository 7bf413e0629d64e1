"""Migrations: one checked head, idempotent upgrades, and a schema that matches the tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.storage.engine import StorageError, create_engine
from panjereh.storage.migrate import (
    MIGRATIONS,
    current_revision,
    ensure_current,
    script_head,
    upgrade,
)
from panjereh.storage.partitions import include_name, include_object
from panjereh.storage.tables import metadata, registry_state


def test_the_head_file_names_the_newest_migration() -> None:
    """Two branches that both add a migration conflict on this file instead of forking."""
    assert (MIGRATIONS / "HEAD").read_text().strip() == script_head()


async def test_upgrade_creates_the_schema_and_running_it_again_changes_nothing(
    engine: AsyncEngine,
) -> None:
    assert await current_revision(engine) == script_head()
    assert await upgrade(engine) == script_head()
    async with engine.connect() as conn:
        rows = (await conn.execute(select(registry_state))).all()
    assert len(rows) == 1
    assert rows[0].version == 0


async def test_the_migrated_schema_matches_the_table_definitions(engine: AsyncEngine) -> None:
    def diff(connection: Connection) -> list[object]:
        # The partitions and their constraints (PostgreSQL, migration 0010) are checked in
        # test_audit_partitions.py.
        opts = {
            "compare_type": True,
            "include_name": include_name,
            "include_object": include_object,
        }
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_a_server_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(StorageError, match="panjereh db upgrade"):
            await ensure_current(engine)
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == 2  # FULL
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await engine.dispose()


def test_a_malformed_database_url_is_a_clear_error() -> None:
    with pytest.raises(StorageError, match="not valid"):
        create_engine("not a url")


async def test_records_written_before_0004_are_chained_by_it(tmp_path: Path) -> None:
    """Revision 0004 chains the existing records, in id order, into the shard
    ``migrated-0004``: a verifier recomputes the same hashes from the rows."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import text

    from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
    from panjereh.audit.records import AuditRecord, Outcome
    from panjereh.storage.migrate import alembic_config

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:

        def _to(connection: Connection, revision: str) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

        async with engine.begin() as connection:
            await connection.run_sync(_to, "0003")
        records = [
            AuditRecord(
                exchange_id=f"0190f3c2-1111-7000-8000-{n:012d}",
                created_at=datetime(2026, 12, 1, 10, 0, n, 5000, tzinfo=UTC),
                consumer="social-security/benefits",
                service_id="civil-registry.person.v1",
                purpose="benefit-eligibility",
                subject_hash=f"{n:02d}" * 32,
                outcome=Outcome.OK if n else Outcome.DENIED,
                status_code=200 if n else 403,
                error_type=None if n else "access-denied",
                duration_ms=1.5 + n,
                request_hash="cd" * 32,
                response_hash="ef" * 32,
                cached=n == 2,
                provider_ms=None if n == 0 else 0.75,
            )
            for n in range(3)
        ]
        async with engine.begin() as connection:
            for r in records:
                await connection.execute(
                    text(
                        "INSERT INTO audit_records (exchange_id, created_at, consumer, "
                        "service_id, purpose, subject_hash, outcome, status_code, error_type, "
                        "duration_ms, request_hash, response_hash, cached, provider_ms) VALUES "
                        "(:e, :c, :co, :s, :p, :sh, :o, :st, :er, :d, :rq, :rs, :ca, :pm)"
                    ),
                    {
                        "e": r.exchange_id,
                        "c": r.created_at.replace(tzinfo=None).isoformat(sep=" "),
                        "co": r.consumer,
                        "s": r.service_id,
                        "p": r.purpose,
                        "sh": r.subject_hash,
                        "o": r.outcome.value,
                        "st": r.status_code,
                        "er": r.error_type,
                        "d": r.duration_ms,
                        "rq": r.request_hash,
                        "rs": r.response_hash,
                        "ca": r.cached,
                        "pm": r.provider_ms,
                    },
                )
        assert await upgrade(engine) == script_head()
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT shard, seq, record_hash FROM audit_records ORDER BY id")
                )
            ).all()
            shards = (await connection.execute(text("SELECT id FROM audit_shards"))).all()
        head, expected = GENESIS, []
        for seq, record in enumerate(records, start=1):
            head = chain_hash(head, canonical_bytes(record, "migrated-0004", seq))
            expected.append(("migrated-0004", seq, head.hex()))
        assert [tuple(row) for row in rows] == expected
        assert [tuple(row) for row in shards] == [("migrated-0004",)]
    finally:
        await engine.dispose()
