"""Helpers the tests share: a real server on a free port, in the test's own event loop; an
empty PostgreSQL database of a test's own and Alembic steps for walking migrations; the one
audit record the audit tests build theirs from."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Literal

import asyncpg
import uvicorn
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
from panjereh.audit.records import AuditRecord, Outcome
from panjereh.storage.migrate import alembic_config

# A record with every field set (the canonical-form tests spell out its exact bytes).
RECORD = AuditRecord(
    exchange_id="0190f3c2-1111-7000-8000-000000000001",
    created_at=datetime(2026, 12, 2, 8, 30, 0, 120000, tzinfo=UTC),
    consumer="social-security/benefits",
    service_id="civil-registry.person.v1",
    purpose="benefit-eligibility",
    subject_hash="ab" * 32,
    outcome=Outcome.OK,
    status_code=200,
    error_type=None,
    duration_ms=3.25,
    request_hash="cd" * 32,
    response_hash="ef" * 32,
    request_id="3f1e2d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
    auth_method="api-key",
    replay_of=None,
    cached=False,
    provider_ms=1.5,
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serving(app: ASGIApp, port: int) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1:port (lifespan included) until the block ends."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            raise RuntimeError("test server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def fresh_postgres(server_url: str, prefix: str = "panjereh_fresh") -> AsyncIterator[str]:
    """The URL of an empty database of its own on the server of ``server_url`` (for running
    migrations from nothing), dropped when the block ends."""
    url = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def alembic_step(
    connection: Connection, step: Literal["upgrade", "downgrade"], revision: str
) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, step)(config, revision)


_BEFORE_FORMAT_2 = (
    "exchange_id, created_at, consumer, service_id, purpose, subject_hash, outcome, "
    "status_code, error_type, duration_ms, request_hash, response_hash, request_id, "
    "auth_method, replay_of, cached, provider_ms, shard, seq, record_hash"
)


async def append_as_before_format_2(engine: AsyncEngine, records: list[AuditRecord]) -> str:
    """Store format-1 ``records`` as one shard the way the writer did before migration 0014
    (for a database migrated only that far); the shard's id."""
    shard, head = f"old{uuid.uuid4().hex[:12]}", GENESIS
    names = [name.strip() for name in _BEFORE_FORMAT_2.split(",")]
    insert = text(
        f"INSERT INTO audit_records ({_BEFORE_FORMAT_2}) "  # noqa: S608 - constant names
        f"VALUES ({', '.join(':' + n for n in names)})"
    )
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO audit_shards (id, started_at, host, pid) VALUES (:i, :t, 'h', 1)"),
            {"i": shard, "t": datetime.now(UTC)},
        )
        for seq, record in enumerate(records, start=1):
            head = chain_hash(head, canonical_bytes(record, shard, seq))
            values = {n: getattr(record, n) for n in names[:17]}
            values.update(outcome=record.outcome.value, shard=shard, seq=seq)
            values["record_hash"] = head.hex()
            await conn.execute(insert, values)
    return shard


async def migrate(
    engine: AsyncEngine, revision: str, step: Literal["upgrade", "downgrade"] = "upgrade"
) -> None:
    """Walk ``engine``'s database up (or down) to ``revision``, in one transaction."""
    async with engine.begin() as connection:
        await connection.run_sync(alembic_step, step, revision)
