"""Live inquiries write records of format panjereh.audit/2, on SQLite and PostgreSQL, and every
reader of the log takes them: verify (chains, checkpoints), proofs, the stream export, the
archive, the operator's browse and the citizen's view; records of format 1 written before
verify byte for byte next to them.

Personas: the granted consumer (social-security/benefits), a known system without a grant
(science-ministry/degrees); the projected grant is the granted consumer's, changed here.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from panjereh.audit import stream
from panjereh.audit.archive import Month
from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
from panjereh.audit.proofs import check
from panjereh.domain.clock import utc_now
from panjereh.exchange.keys import public_bytes
from panjereh.exchange.projection import projection_id
from panjereh.exchange.signatures import content_digest
from panjereh.storage import archive_repo
from panjereh.storage.audit_browse import RecordQuery, record_row, records_page
from panjereh.storage.audit_scan import verify_log
from panjereh.storage.checkpoints_repo import prove
from panjereh.storage.citizen_repo import RecordFilter, subject_records
from panjereh.storage.tables import audit_records
from panjereh.web.audit_view import record_json
from tests.integration.exchange.harness import (
    GRANTED,
    PERSON_ID,
    UNGRANTED,
    Platform,
    prepare_database,
    running,
)
from tests.integration.storage.test_audit_verify import _record
from tests.support import append_as_before_format_2

OPERATION = "POST /exchange/v1/services/{service_id}"


@pytest.fixture
async def platform(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[Platform]:
    await prepare_database(database_url, sqlite_template)
    async with running(database_url, tmp_path / "var") as platform:
        yield platform


def _public_key_for(platform: Platform) -> dict[str, bytes]:
    keys = platform.app.runtime.keys
    return {keys.active_id: public_bytes(keys.private_key.public_key())}


async def test_an_inquiry_writes_a_format_2_record_with_its_sizes_and_operation(
    platform: Platform,
) -> None:
    sent = orjson.dumps({"national_code": platform.citizen})
    answer = await platform.ask()
    record = await platform.record(answer)
    assert record.format == 2
    assert record.request_bytes == len(sent)
    assert record.response_bytes == len(answer.content)
    assert record.operation == OPERATION
    assert record.projection_id is None  # the grant shows every field
    assert record.context is None  # no inquiry carries a context yet


async def test_the_body_hashes_of_a_format_2_record_are_keyed_not_plain_sha256(
    platform: Platform,
) -> None:
    """A reader of the log cannot brute-force a body (~10^9 national codes) from its hash."""
    sent = orjson.dumps({"national_code": platform.citizen})
    answer = await platform.ask()
    record = await platform.record(answer)
    keys = platform.app.runtime.subject_keys
    assert record.request_hash == keys.body_hash(sent)
    assert record.response_hash == keys.body_hash(answer.content)
    assert record.request_hash != hashlib.sha256(sent).hexdigest()
    assert record.response_hash != hashlib.sha256(answer.content).hexdigest()
    # the caller's Content-Digest stays the plain SHA-256 the signatures cover
    assert answer.headers["content-digest"] == content_digest(answer.content)
    refused = await platform.ask(system=UNGRANTED)
    assert refused.status_code == 403
    denied = await platform.record(refused)
    assert (denied.format, denied.request_bytes, denied.operation) == (2, len(sent), OPERATION)
    assert denied.response_bytes == len(refused.content)
    assert denied.projection_id is None  # no grant, no projection


async def test_a_projected_grant_names_its_projection_in_the_record(platform: Platform) -> None:
    pointers = ["/first_name", "/birth_date"]
    await platform.set_grant(GRANTED, projection=pointers)
    record = await platform.record(await platform.ask())
    assert record.projection_id == projection_id(tuple(pointers))
    assert record.projection_id is not None
    assert record.projection_id.startswith("sha256:")
    await platform.set_grant(GRANTED, projection=[*pointers, "/last_name"])
    wider = await platform.record(await platform.ask())
    assert wider.projection_id not in (None, record.projection_id)


async def test_format_2_inquiries_verify_and_prove_next_to_format_1_records(
    platform: Platform, tmp_path: Path
) -> None:
    now = utc_now()  # the same month as the inquiries: archived with them
    old = [replace(_record(n), created_at=now) for n in range(40, 43)]
    old_shard = await append_as_before_format_2(platform.engine, old)
    answers = [await platform.ask(), await platform.ask(system=UNGRANTED), await platform.ask()]
    records = [await platform.record(a) for a in answers]
    assert {r.format for r in records} == {2}
    assert await platform.app.runtime.checkpoint() is not None

    keys = _public_key_for(platform)
    report = await verify_log(platform.engine, keys.get)
    assert report.findings == []
    assert report.summary.records == 6

    for record in [*records, old[1]]:
        proven = await prove(platform.engine, record.exchange_id)
        assert proven is not None
        assert check(orjson.loads(orjson.dumps(proven[1])), keys.get) == record
    old_proof = (await prove(platform.engine, old[1].exchange_id) or (None, {}))[1]
    assert "format" not in old_proof["record"]  # a format-1 proof is what it always was

    head = GENESIS  # the old rows keep the hashes their writer computed
    for seq, record in enumerate(old, start=1):
        head = chain_hash(head, canonical_bytes(record, old_shard, seq))
        async with platform.engine.connect() as conn:
            stored = await record_row(conn, record.exchange_id)
        assert stored is not None
        assert (stored["record_hash"], stored["format"]) == (head.hex(), None)
        assert (await platform.audit.by_exchange_id(record.exchange_id)) == record

    async with platform.engine.connect() as conn:
        first = await record_row(conn, records[0].exchange_id)
    assert first is not None
    items = [item async for item in _stream_items(platform, str(first["shard"]))]
    assert [i.record for i in items] == records  # through the stream export's wire form
    follower = stream.ChainFollower()
    assert all(follower.check(i) is stream.Verdict.VERIFIED for i in items)

    out = tmp_path / "month.jsonl"
    month = Month.of(records[0].created_at)
    archived = await archive_repo.export_month(
        platform.engine,
        month,
        out,
        key_id=platform.app.runtime.keys.active_id,
        sign=platform.app.runtime.keys.private_key.sign,
        now=records[-1].created_at,
        public_key_for=keys.get,
    )
    assert archived.ok
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    formats = [line["record"].get("format") for line in lines if "record" in line]
    assert sorted(formats, key=str) == [2, 2, 2, None, None, None]


async def _stream_items(platform: Platform, shard: str) -> AsyncIterator[stream.StreamRecord]:
    """Each record of ``shard`` as the stream export sends it (encoded, then decoded)."""
    r = audit_records.c
    async with platform.engine.connect() as conn:
        rows = await conn.execute(
            select(r.exchange_id, r.seq, r.record_hash).where(r.shard == shard).order_by(r.seq)
        )
        found = rows.all()
    for exchange_id, seq, digest in found:
        record = await platform.audit.by_exchange_id(exchange_id)
        assert record is not None
        yield stream.decode(stream.encode(stream.StreamRecord(record, shard, seq, digest)))


async def test_the_browse_the_api_view_and_the_citizen_view_show_format_2_records(
    platform: Platform,
) -> None:
    answer = await platform.ask()
    record = await platform.record(answer)
    assert record.subject_hash is not None
    async with platform.engine.connect() as conn:
        page = await records_page(conn, RecordQuery(service_id=PERSON_ID), after=None, limit=10)
        row = await record_row(conn, record.exchange_id)
        mine = await subject_records(conn, [record.subject_hash], RecordFilter(), 10)
    assert [row["exchange_id"] for row in page.rows][:1] == [record.exchange_id]
    assert [r.exchange_id for r in mine] == [record.exchange_id]
    assert row is not None
    shown = record_json(row, platform.app.runtime.registry.current, set())
    assert shown["format"] == 2
    assert shown["operation"] == OPERATION
    assert (shown["request_bytes"], shown["response_bytes"]) == (
        record.request_bytes,
        len(answer.content),
    )
    assert (shown["context"], shown["projection_id"]) == (None, None)
