"""An agency's network record (private address blocks, plain http) in the registry, on SQLite
and PostgreSQL: set by an operator only, audited, carried by the registry document, read into
the exchange's snapshot, and the rule a new or changed provider endpoint must fit."""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import ip_network

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.domain.errors import InvalidValue
from panjereh.interchange.yaml_io import dump_document, parse_document
from panjereh.registry.access import Forbidden, Principal, Role
from panjereh.storage.document_repo import export_document, import_document
from panjereh.storage.events_repo import events_for
from panjereh.storage.registry_ops import RegistryOps
from panjereh.storage.registry_repo import load_snapshot
from tests.unit.interchange.test_yaml_io import VALID

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
OPERATOR = Principal("user:operator", Role.OPERATOR)
OWNER = Principal("user:civil-admin", Role.AGENCY_ADMIN, "civil-registry")
NETWORK = """\
    kind: organization
    network:
      private_blocks: [10.20.0.0/16]
      allow_http: true
  - code: social-security"""
PRIVATE_ENDPOINT = "http://10.20.3.4/person"


def _ops(conn: AsyncConnection, who: Principal = OPERATOR) -> RegistryOps:
    return RegistryOps(
        conn, who, now=NOW, reason="its VPN (ticket 4711)", pepper=b"p" * 32, allow_private=False
    )


async def _import(engine: AsyncEngine, text: str) -> None:
    async with engine.begin() as conn:
        await import_document(
            conn, parse_document(text, allow_private=False), actor="cli:t", reason="t", now=NOW
        )


@pytest.fixture
async def registry(engine: AsyncEngine) -> AsyncEngine:
    await _import(engine, VALID)
    return engine


async def test_an_operator_records_blocks_the_exchange_reads_and_the_event_keeps(
    registry: AsyncEngine,
) -> None:
    async with registry.begin() as conn:
        agency = await _ops(conn).set_agency_network(
            "civil-registry", private_blocks=["10.20.0.0/16", "fd00:20::/32"], allow_http=True
        )

    assert agency.network is not None
    assert agency.network.private_blocks == ["10.20.0.0/16", "fd00:20::/32"]
    snapshot = await load_snapshot(registry)
    stored = next(a for a in snapshot.agencies.values() if a.code == "civil-registry")
    assert stored.network.private_blocks == (ip_network("10.20.0.0/16"), ip_network("fd00:20::/32"))
    assert stored.network.allow_http
    async with registry.connect() as conn:
        [event] = [
            e
            for e in await events_for(conn, "agency", "civil-registry")
            if e.action == "agency.network"
        ]
    assert (event.actor, event.reason) == ("user:operator", "its VPN (ticket 4711)")
    assert event.before is not None
    assert event.before["network"] is None
    assert event.after is not None
    assert event.after["network"]["private_blocks"] == ["10.20.0.0/16", "fd00:20::/32"]


async def test_the_agencys_own_admin_cannot_record_blocks(registry: AsyncEngine) -> None:
    async with registry.begin() as conn:
        with pytest.raises(Forbidden):
            await _ops(conn, OWNER).set_agency_network(
                "civil-registry", private_blocks=["10.0.0.0/8"], allow_http=True
            )
    snapshot = await load_snapshot(registry)
    stored = next(a for a in snapshot.agencies.values() if a.code == "civil-registry")
    assert stored.network.private_blocks == ()
    async with registry.connect() as conn:
        actions = [e.action for e in await events_for(conn, "agency", "civil-registry")]
    assert "agency.network" not in actions


async def test_the_document_carries_the_record_both_ways(engine: AsyncEngine) -> None:
    text = VALID.replace("    kind: organization\n  - code: social-security", NETWORK, 1)
    text = text.replace("https://api.civil-registry.example/person", PRIVATE_ENDPOINT)

    await _import(engine, text)

    async with engine.connect() as conn:
        exported = dump_document(await export_document(conn))
    assert "  network:\n    private_blocks:\n    - 10.20.0.0/16\n    allow_http: true\n" in exported
    assert parse_document(exported, allow_private=False) == parse_document(
        text, allow_private=False
    )
    snapshot = await load_snapshot(engine)
    assert snapshot.services["civil-registry.person.v1"].endpoint_url == PRIVATE_ENDPOINT


async def test_a_new_or_changed_endpoint_must_fit_the_record_but_a_stored_one_is_kept(
    registry: AsyncEngine,
) -> None:
    changed = VALID.replace("https://api.civil-registry.example/person", PRIVATE_ENDPOINT)
    with pytest.raises(InvalidValue) as caught:
        await _import(registry, changed)
    assert caught.value.code == "endpoint-url.http"
    assert "civil-registry.person.v1" in caught.value.message_en

    await _import(
        registry, changed.replace("    kind: organization\n  - code: social-security", NETWORK, 1)
    )
    async with registry.begin() as conn:  # the record narrowed: what is stored stays usable
        await _ops(conn).set_agency_network("civil-registry", private_blocks=[], allow_http=False)
        service = await _ops(conn).service("civil-registry.person.v1")
        renamed = await _ops(conn, OWNER).save_service(
            service.model_copy(update={"name_en": "Person inquiry (v1)"})
        )
        with pytest.raises(InvalidValue):  # but it cannot be moved to another private address
            await _ops(conn, OWNER).save_service(
                service.model_copy(update={"endpoint_url": "http://10.20.3.5/person"})
            )

    assert renamed.endpoint_url == PRIVATE_ENDPOINT
    snapshot = await load_snapshot(registry)
    assert snapshot.services["civil-registry.person.v1"].name_en == "Person inquiry (v1)"
