"""Registry operations on the stored state: key rotation overlap, revocation, signing keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.domain.errors import InvalidValue
from panjereh.interchange.yaml_io import parse_document
from panjereh.registry.access import Conflict, Principal, Role
from panjereh.registry.credentials import hash_api_key
from panjereh.storage.document_repo import import_document
from panjereh.storage.registry_ops import RegistryOps
from panjereh.storage.registry_repo import load_snapshot
from tests.unit.interchange.test_yaml_io import VALID

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PEPPER = b"a-test-pepper-of-enough-length"
SYSTEM = "social-security/benefits"


def _ops(conn: AsyncConnection, now: datetime = NOW) -> RegistryOps:
    return RegistryOps(
        conn,
        Principal("user:admin", Role.AGENCY_ADMIN, "social-security"),
        now=now,
        reason="test",
        pepper=PEPPER,
        allow_private=False,
    )


@pytest.fixture
async def registry(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as conn:
        await import_document(
            conn, parse_document(VALID, allow_private=False), actor="t", reason="t", now=NOW
        )
    return engine


async def test_rotation_keeps_the_old_key_working_for_the_overlap_only(
    registry: AsyncEngine,
) -> None:
    async with registry.begin() as conn:
        old, _ = await _ops(conn).issue_api_key(SYSTEM)
    later = NOW + timedelta(days=30)
    async with registry.begin() as conn:
        new, _ = await _ops(conn, later).rotate_api_key(SYSTEM, overlap=timedelta(hours=24))
    snapshot = await load_snapshot(registry)
    old_key = snapshot.keys_by_hash[hash_api_key(PEPPER, old)]
    new_key = snapshot.keys_by_hash[hash_api_key(PEPPER, new)]
    assert old_key.usable_at(later + timedelta(hours=23))
    assert not old_key.usable_at(later + timedelta(hours=24))
    assert new_key.usable_at(later + timedelta(days=365))


async def test_a_revoked_key_stops_at_once_and_only_that_key(registry: AsyncEngine) -> None:
    async with registry.begin() as conn:
        ops = _ops(conn)
        first, record = await ops.issue_api_key(SYSTEM)
        second, _ = await ops.issue_api_key(SYSTEM)
    async with registry.begin() as conn:
        await _ops(conn).revoke_api_key(SYSTEM, record.prefix)
    snapshot = await load_snapshot(registry)
    assert not snapshot.keys_by_hash[hash_api_key(PEPPER, first)].usable_at(NOW)
    assert snapshot.keys_by_hash[hash_api_key(PEPPER, second)].usable_at(NOW)


async def test_signing_keys_are_added_once_and_revoked(registry: AsyncEngine) -> None:
    public = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    async with registry.begin() as conn:
        await _ops(conn).add_signing_key(SYSTEM, "2026-11", public)
    async with registry.begin() as conn:
        with pytest.raises(Conflict):
            await _ops(conn).add_signing_key(SYSTEM, "2026-11", public)
    snapshot = await load_snapshot(registry)
    (key,) = snapshot.signing_keys.values()
    assert len(key.public_key) == 32
    assert key.usable_at(NOW)
    async with registry.begin() as conn:
        await _ops(conn).revoke_signing_key(SYSTEM, "2026-11")
    (key,) = (await load_snapshot(registry)).signing_keys.values()
    assert not key.usable_at(NOW)


@pytest.mark.parametrize(
    ("key_id", "public_key", "field"),
    [
        ("2026-12", "abc", "public_key"),
        ("", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "key_id"),
        ("k" * 65, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "key_id"),
        ("bad id/%", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "key_id"),
    ],
)
async def test_a_bad_signing_key_is_an_invalid_value_naming_its_field(
    registry: AsyncEngine, key_id: str, public_key: str, field: str
) -> None:
    async with registry.begin() as conn:
        with pytest.raises(InvalidValue) as refused:
            await _ops(conn).add_signing_key(SYSTEM, key_id, public_key)
    assert refused.value.field == field
    assert refused.value.message_fa
    assert (await load_snapshot(registry)).signing_keys == {}
