"""Services that keep payloads, end to end on SQLite and PostgreSQL: both bodies sealed with
the inquiry's record; other services keep only hashes; no key, no serving them."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.payloads import PayloadKeys
from panjereh.config import ConfigError, Environment, Settings
from panjereh.domain.clock import SystemClock
from panjereh.storage.engine import create_engine
from panjereh.storage.tables import audit_payloads, audit_records, services
from panjereh.web.runtime import Runtime
from tests.integration.exchange.harness import PERSON_ID, Platform, prepare_database, running

KEY = bytes(range(32))
WITH_KEY: dict[str, Any] = {
    "audit_payload_key": base64.b64encode(KEY).decode(),
    "audit_payload_key_id": "payload-1",
}


@pytest.fixture
async def platform(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[Platform]:
    await prepare_database(database_url, sqlite_template)
    async with running(database_url, tmp_path / "var", **WITH_KEY) as platform:
        yield platform


async def payload_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(audit_payloads)) or 0)


async def test_a_service_that_keeps_payloads_has_both_bodies_sealed(platform: Platform) -> None:
    await platform.set_service(PERSON_ID, keep_payloads=True)
    answer = await platform.ask()
    assert answer.status_code == 200
    exchange_id = answer.headers["x-exchange-id"]
    sent = f'{{"national_code":"{platform.citizen}"}}'.encode()
    record = await platform.record(answer)
    assert record.request_hash == platform.app.runtime.subject_keys.body_hash(sent)
    assert record.request_hash != hashlib.sha256(sent).hexdigest()  # keyed (format 2)
    sealed = await platform.audit.sealed_payloads(exchange_id)
    keys = PayloadKeys(KEY, key_id="payload-1")
    assert [(s.kind.value, s.key_id) for s in sealed] == [
        ("request", "payload-1"),
        ("response", "payload-1"),
    ]
    assert [keys.open(s) for s in sealed] == [sent, answer.content]
    assert platform.citizen.encode() not in sealed[0].ciphertext
    refused = await platform.ask({"national_code": "123"})  # a refusal keeps its bodies too
    assert refused.status_code == 400
    assert len(await platform.audit.sealed_payloads(refused.headers["x-exchange-id"])) == 2


async def test_a_service_that_does_not_keep_payloads_stores_only_hashes(
    platform: Platform,
) -> None:
    answer = await platform.ask()
    assert answer.status_code == 200
    record = await platform.record(answer)
    assert record.response_hash == platform.app.runtime.subject_keys.body_hash(answer.content)
    assert await platform.audit.sealed_payloads(answer.headers["x-exchange-id"]) == []
    assert await payload_count(platform.engine) == 0


async def test_without_a_key_a_service_that_came_to_keep_payloads_is_not_answered(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    """Set while serving (another process changed the registry): its inquiries are refused
    rather than recorded in clear, and other services go on."""
    await prepare_database(database_url, sqlite_template)
    async with running(database_url, tmp_path / "var") as platform:
        await platform.set_service(PERSON_ID, keep_payloads=True)
        async with platform.engine.connect() as conn:
            before = int(await conn.scalar(select(func.count()).select_from(audit_records)) or 0)
        answer = await platform.ask()
        assert answer.status_code == 503
        assert answer.json()["code"] == "overloaded"
        assert await platform.audit.by_exchange_id(answer.headers["x-exchange-id"]) is None
        async with platform.engine.connect() as conn:
            after = int(await conn.scalar(select(func.count()).select_from(audit_records)) or 0)
        assert after == before
        assert await payload_count(platform.engine) == 0


async def test_without_a_key_the_exchange_refuses_to_start_with_such_a_service(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    await prepare_database(database_url, sqlite_template)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(services).where(services.c.id == PERSON_ID).values(keep_payloads=True)
            )
    finally:
        await engine.dispose()
    settings = Settings(
        env=Environment.DEVELOPMENT, data_dir=tmp_path / "var", database_url=database_url
    )
    runtime = Runtime.build(settings, clock=SystemClock(), pepper=b"p" * 32)
    try:
        with pytest.raises(ConfigError, match=f"services {PERSON_ID} keep payloads, but"):
            await runtime.start()
    finally:
        await runtime.audit_store.close()
        await runtime.engine.dispose()
