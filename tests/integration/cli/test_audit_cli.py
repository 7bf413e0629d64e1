"""`panjereh audit verify` against SQLite and PostgreSQL: exit 0 on an intact log, 1 and the
record named when one was changed."""

from __future__ import annotations

from pathlib import Path

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.storage.audit_repo import SqlAuditStore
from tests.integration.cli.runner import Cli
from tests.integration.storage.tampering import tamper
from tests.integration.storage.test_audit_verify import _record


async def _write(engine: AsyncEngine, count: int) -> None:
    store = SqlAuditStore(engine)
    try:
        await store.append([_record(n) for n in range(1, count + 1)])
    finally:
        await store.close()


async def test_an_intact_log_verifies(cli: Cli, engine: AsyncEngine) -> None:
    await _write(engine, 5)
    done = await cli("audit", "verify")
    assert done.code == 0
    lines = done.out.splitlines()
    assert lines[0] == "5 records in 1 shards and 0 checkpoints checked; 0 problems"
    assert lines[1].startswith("  shard ")
    assert ": last #5, head " in lines[1]


async def test_a_changed_record_is_named_and_the_exit_status_is_1(
    cli: Cli, engine: AsyncEngine
) -> None:
    await _write(engine, 5)
    await tamper(engine, "UPDATE audit_records SET status_code = 404 WHERE seq = 3")
    done = await cli("audit", "verify")
    assert done.code == 1
    first = done.out.splitlines()[0]
    assert first.startswith("broken-link: shard ")
    assert f", #3 ({_record(3).exchange_id}): " in first
    assert "5 records in 1 shards and 0 checkpoints checked; 1 problems" in done.out


async def test_a_kept_copy_of_the_checkpoints_catches_a_cut_off_tail(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    """An auditor keeps the published checkpoints; someone then deletes the last records and
    the checkpoints that pinned them: the chains alone look fine, the copy does not."""
    await _write(engine, 5)
    made = await cli("audit", "checkpoint")
    assert made.code == 0
    assert made.out.startswith("checkpoint 1: 5 records, hash ")
    assert (await cli("audit", "checkpoint")).out == "nothing new since the last checkpoint\n"
    exported = await cli("audit", "checkpoints")
    copy = tmp_path / "checkpoints.json"
    copy.write_text(exported.out)
    assert [c["number"] for c in orjson.loads(exported.out)] == [1]
    assert (await cli("audit", "verify")).code == 0
    await tamper(engine, "DELETE FROM audit_records WHERE seq >= 4")
    await tamper(engine, "DELETE FROM audit_checkpoints")
    alone = await cli("audit", "verify")
    assert alone.code == 0  # the chains end at #3 as if nothing had come after
    assert "3 records in 1 shards and 0 checkpoints checked; 0 problems" in alone.out
    checked = await cli("audit", "verify", "--checkpoints", str(copy))
    assert checked.code == 1
    lines = checked.out.splitlines()
    assert (
        lines[0] == "checkpoint-copy: checkpoint 1 is missing from the log: the log was rewritten"
    )
    assert lines[1].startswith("truncated: shard ")
    assert ", #5: checkpoint 1 pinned this record" in lines[1]


async def test_a_copy_that_is_not_checkpoints_is_one_clear_line(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a list"}')
    done = await cli("audit", "verify", "--checkpoints", str(bad))
    assert done.code == 2
    assert "expected a JSON list of checkpoints" in done.err


async def test_a_record_is_proven_offline_with_the_jwks(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    await _write(engine, 4)
    exchange_id = _record(2).exchange_id
    early = await cli("audit", "prove", exchange_id)
    assert early.code == 2
    assert "no checkpoint covers this record yet" in early.err
    assert (await cli("audit", "checkpoint")).code == 0
    proven = await cli("audit", "prove", exchange_id)
    assert proven.code == 0
    proof = tmp_path / "proof.json"
    proof.write_text(proven.out)
    keys = await cli("exchange", "keys")
    key_id, _, x = keys.out.split()[:3]
    jwks = tmp_path / "jwks.json"
    jwks.write_text(
        orjson.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": key_id, "x": x}]}).decode()
    )
    checked = await cli("audit", "check-proof", str(proof), "--keys", str(jwks))
    assert checked.code == 0, checked.out
    assert checked.out.startswith(f"proven: inquiry {exchange_id} (civil-registry.person.v1, ok, ")
    assert "is record #2 of shard " in checked.out
    document = orjson.loads(proof.read_bytes())
    document["record"]["status_code"] = 404
    proof.write_bytes(orjson.dumps(document))
    refused = await cli("audit", "check-proof", str(proof), "--keys", str(jwks))
    assert refused.code == 1
    assert refused.out.startswith("not proven: the record, its path and the checkpoint")
    unknown = await cli("audit", "prove", "0190f3c2-2222-7000-8000-999999999999")
    assert unknown.code == 2
    assert "no chained audit record has the exchange id" in unknown.err
