"""Kept payloads and the control-plane stream from the command line (SQLite and PostgreSQL):
`registry import` refuses keep_payloads without a key, `audit payload` decrypts and is itself
recorded, `audit verify` checks the control-plane stream, key rotations are events."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.payloads import KeptPayloads, PayloadKeys
from panjereh.domain.events import EventOutcome
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.events_repo import ConnectionAuditSink, events_for
from panjereh.storage.registry_repo import load_snapshot
from tests.integration.cli.runner import Cli
from tests.integration.storage.tampering import tamper_events
from tests.integration.storage.test_audit_payloads import REQUEST, RESPONSE, record
from tests.integration.storage.test_events_chain import event
from tests.unit.interchange.test_yaml_io import VALID

CHANGE = ["--actor", "maryam", "--reason", "onboarding"]
READ = ["--actor", "auditor", "--reason", "case 1405-17"]
KEY = bytes(range(32))
KEEPING = VALID.replace(
    "    subject: {pointer: /national_code, kind: national_code}\n",
    "    subject: {pointer: /national_code, kind: national_code}\n    keep_payloads: true\n",
)


def with_payload_key(monkeypatch: pytest.MonkeyPatch, key: bytes = KEY, key_id: str = "p1") -> None:
    monkeypatch.setenv("PANJEREH_AUDIT_PAYLOAD_KEY", base64.b64encode(key).decode())
    monkeypatch.setenv("PANJEREH_AUDIT_PAYLOAD_KEY_ID", key_id)


def document(tmp_path: Path, text: str) -> str:
    path = tmp_path / "registry.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


async def test_import_refuses_a_service_that_keeps_payloads_without_a_key(
    cli: Cli, tmp_path: Path, engine: AsyncEngine
) -> None:
    assert "keep_payloads: true" in KEEPING
    done = await cli("registry", "import", document(tmp_path, KEEPING), *CHANGE)
    assert done.code == 2
    assert done.err == (
        "error: service civil-registry.person.v1 keeps payloads, but PANJEREH_AUDIT_PAYLOAD_KEY "
        "is not set: payloads are never stored unencrypted\n"
    )
    assert (await load_snapshot(engine)).services == {}


async def test_import_accepts_it_with_a_payload_key(
    cli: Cli, tmp_path: Path, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_payload_key(monkeypatch)
    done = await cli("registry", "import", document(tmp_path, KEEPING), *CHANGE)
    assert done.code == 0, done.err
    services = (await load_snapshot(engine)).services
    assert services["civil-registry.person.v1"].keep_payloads is True
    exported = await cli("registry", "export")
    assert "\n  keep_payloads: true\n" in exported.out


async def test_keep_payloads_must_be_a_real_boolean(cli: Cli, tmp_path: Path) -> None:
    text = KEEPING.replace("keep_payloads: true", 'keep_payloads: "yes"')
    done = await cli("registry", "import", document(tmp_path, text), *CHANGE)
    assert done.code == 2
    assert "services[0].keep_payloads: Input should be a valid boolean" in done.err


async def _kept(engine: AsyncEngine, key: bytes = KEY) -> str:
    store = SqlAuditStore(engine, payload_keys=PayloadKeys(key, key_id="p1"))
    try:
        exchange_id = record(1).exchange_id
        await store.append_with_payloads(
            [record(1), record(2)], [KeptPayloads(exchange_id, REQUEST, RESPONSE)]
        )
    finally:
        await store.close()
    return exchange_id


async def test_an_auditor_reads_a_kept_payload_and_the_reading_is_recorded(
    cli: Cli, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    exchange_id = await _kept(engine)
    with_payload_key(monkeypatch)
    both = await cli("audit", "payload", exchange_id, *READ)
    assert both.code == 0, both.err
    assert both.out == (
        f"== request (key p1) ==\n{REQUEST.decode()}\n"
        f"== response (key p1) ==\n{RESPONSE.decode()}\n"
    )
    one = await cli("audit", "payload", exchange_id, "--kind", "response", *READ)
    assert one.out == RESPONSE.decode()
    async with engine.connect() as conn:
        read = await events_for(conn, "audit-record", exchange_id)
    assert [(e.actor, e.action, e.reason, e.outcome, e.after) for e in read] == [
        (
            "cli:auditor",
            "audit-payload.read",
            "case 1405-17",
            EventOutcome.SUCCEEDED,
            {"kinds": ["request", "response"], "key_ids": ["p1"]},
        ),
        (
            "cli:auditor",
            "audit-payload.read",
            "case 1405-17",
            EventOutcome.SUCCEEDED,
            {"kinds": ["response"], "key_ids": ["p1"]},
        ),
    ]


async def test_the_wrong_key_is_a_clear_error_and_the_attempt_is_recorded(
    cli: Cli, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    exchange_id = await _kept(engine)
    with_payload_key(monkeypatch, key=bytes(32))
    done = await cli("audit", "payload", exchange_id, *READ)
    assert done.code == 2
    assert done.err == (
        f"error: the request of {exchange_id} does not decrypt under key 'p1': the configured "
        "key is not the one it was sealed with, or the stored payload was altered\n"
    )
    assert done.out == ""
    async with engine.connect() as conn:
        read = await events_for(conn, "audit-record", exchange_id)
    assert [e.outcome for e in read] == [EventOutcome.FAILED]


async def test_reading_needs_a_key_and_a_kept_payload(
    cli: Cli, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _kept(engine)
    without_key = await cli("audit", "payload", record(1).exchange_id, *READ)
    assert without_key.code == 2
    assert without_key.err.startswith("error: no payload key is configured")
    with_payload_key(monkeypatch)
    plain = await cli("audit", "payload", record(2).exchange_id, *READ)
    assert plain.code == 2
    assert plain.err == (
        f"error: no kept payload for exchange id {record(2).exchange_id!r} (no such inquiry, "
        "or its service does not keep payloads)\n"
    )
    async with engine.connect() as conn:
        assert await events_for(conn, "audit-record", record(2).exchange_id) == []


async def _events(engine: AsyncEngine, count: int) -> None:
    async with engine.begin() as conn:
        for n in range(1, count + 1):
            await ConnectionAuditSink(conn).emit(event(n))


async def test_verify_checks_the_control_plane_stream(cli: Cli, engine: AsyncEngine) -> None:
    await _events(engine, 3)
    intact = await cli("audit", "verify")
    assert intact.code == 0
    assert intact.out.splitlines()[-1].startswith(
        "3 control-plane events checked; 0 problems (last #3, head "
    )
    await tamper_events(
        engine, "UPDATE registry_events SET reason = 'nothing to see' WHERE seq = 2"
    )
    broken = await cli("audit", "verify")
    assert broken.code == 1
    lines = broken.out.splitlines()
    assert lines[0] == "0 records in 0 shards and 0 checkpoints checked; 0 problems"
    assert lines[1].startswith("event-broken-link: stream control-plane, event #2 (row ")
    assert lines[2].startswith("3 control-plane events checked; 1 problems")


async def test_rotating_and_retiring_the_exchange_key_are_events(
    cli: Cli, engine: AsyncEngine
) -> None:
    rotated = await cli("exchange", "rotate-key", "--actor", "reza", "--reason", "yearly")
    assert rotated.code == 0, rotated.err
    key_id = rotated.out.split()[3]
    again = await cli("exchange", "rotate-key", "--actor", "reza", "--reason", "yearly")
    retired = await cli("exchange", "retire-key", key_id, "--actor", "reza", "--reason", "done")
    assert (again.code, retired.code) == (0, 0)
    async with engine.connect() as conn:
        history = await events_for(conn, "exchange-key", key_id)
    assert [(e.actor, e.action, e.reason) for e in history] == [
        ("cli:reza", "exchange-key.rotate", "yearly"),
        ("cli:reza", "exchange-key.retire", "done"),
    ]
    assert (await cli("audit", "verify")).code == 0
