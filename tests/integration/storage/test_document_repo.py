"""Import and export of the registry document, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.interchange.registry_document import ApiKeyDoc
from panjereh.interchange.yaml_io import dump_document, parse_document
from panjereh.storage.document_repo import export_document, import_document
from panjereh.storage.events_repo import events_for
from panjereh.storage.registry_repo import load_snapshot, record_key_usage, registry_version
from panjereh.storage.tables import api_keys, registry_events
from tests.unit.interchange.test_yaml_io import VALID

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def _import(engine: AsyncEngine, text: str, reason: str = "test") -> tuple[int, int]:
    document = parse_document(text, allow_private=False)
    async with engine.begin() as conn:
        result = await import_document(conn, document, actor="cli:tester", reason=reason, now=NOW)
    return sum(result.created.values()), sum(result.updated.values())


async def _event_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(registry_events)) or 0)


async def test_an_export_imports_into_an_empty_registry_and_exports_identically(
    engine: AsyncEngine,
) -> None:
    assert await _import(engine, VALID) == (8, 0)
    async with engine.connect() as conn:
        first = dump_document(await export_document(conn))
    assert parse_document(first, allow_private=False) == parse_document(VALID, allow_private=False)
    async with engine.begin() as conn:  # wipe-free check: a second database would do the same
        again = await export_document(conn)
    assert dump_document(again) == first


async def test_importing_the_same_document_twice_changes_nothing(engine: AsyncEngine) -> None:
    await _import(engine, VALID)
    version = await registry_version(engine)
    events = await _event_count(engine)
    assert await _import(engine, VALID) == (0, 0)
    assert await registry_version(engine) == version
    assert await _event_count(engine) == events


async def test_a_change_is_one_event_with_before_and_after(engine: AsyncEngine) -> None:
    await _import(engine, VALID)
    changed = VALID.replace("timeout", "timeout").replace(
        "https://api.civil-registry.example/person", "https://api2.civil-registry.example/person"
    )
    assert await _import(engine, changed, reason="new data centre") == (0, 1)
    async with engine.connect() as conn:
        history = await events_for(conn, "service", "civil-registry.person.v1")
    assert [e.action for e in history] == ["service.create", "service.update"]
    last = history[-1]
    assert last.actor == "cli:tester"
    assert last.reason == "new data centre"
    assert last.before is not None
    assert last.after is not None
    assert last.before["endpoint_url"] == "https://api.civil-registry.example/person"
    assert last.after["endpoint_url"] == "https://api2.civil-registry.example/person"
    snapshot = await load_snapshot(engine)
    assert snapshot.services["civil-registry.person.v1"].endpoint_url.startswith("https://api2.")


async def test_the_snapshot_sees_grants_with_purposes(engine: AsyncEngine) -> None:
    await _import(engine, VALID)
    snapshot = await load_snapshot(engine)
    consumer = next(s for s in snapshot.systems.values() if s.ident == "social-security/benefits")
    grant = snapshot.grant(consumer.id, "civil-registry.person.v1")
    assert grant is not None
    assert grant.purposes == frozenset({"benefit-eligibility"})
    assert snapshot.services["civil-registry.person.v1"].request_schema == {"type": "object"}


async def test_a_key_used_since_the_last_import_is_not_an_update(engine: AsyncEngine) -> None:
    """`panjereh demo` again after an inquiry: the key's last use is kept, no event."""
    document = parse_document(VALID, allow_private=False)
    key = ApiKeyDoc(prefix="pnj_test", key_hash="ab" * 32, label="demo", created_at=NOW)
    system = document.systems[0].model_copy(update={"api_keys": [key]})
    document = document.model_copy(update={"systems": [system, *document.systems[1:]]})
    async with engine.begin() as conn:
        await import_document(conn, document, actor="cli:tester", reason="first", now=NOW)
        key_id = await conn.scalar(select(api_keys.c.id).where(api_keys.c.key_hash == "ab" * 32))
    used = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)
    await record_key_usage(engine, {int(key_id or 0): used})
    events = await _event_count(engine)
    async with engine.begin() as conn:
        again = await import_document(conn, document, actor="cli:tester", reason="again", now=NOW)
        stored = await conn.scalar(
            select(api_keys.c.last_used_at).where(api_keys.c.key_hash == "ab" * 32)
        )
    assert not again.changed
    assert await _event_count(engine) == events
    assert stored == used
