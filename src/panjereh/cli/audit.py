"""`panjereh audit ...`: verifying the audit log, and its signed checkpoints
(docs/audit-log.md)."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import click
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.exc import SQLAlchemyError

from panjereh.audit.checkpoints import Checkpoint
from panjereh.audit.proofs import ProofError
from panjereh.audit.proofs import check as check_proof
from panjereh.audit.verify import ChainVerifier, Finding, Summary
from panjereh.cli.audit_privacy import check_control_plane, payload_command
from panjereh.cli.common import UserError
from panjereh.cli.common import settings as load
from panjereh.config import Settings
from panjereh.domain.clock import SystemClock
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.checkpoints_repo import (
    CheckpointStore,
    NotYetCheckpointed,
    compare_copies,
    create_checkpoint,
    prove,
    verify_checkpoints,
)
from panjereh.storage.engine import StorageError, create_engine
from panjereh.web.runtime import exchange_keys

SHOWN = 50  # findings printed in full; the rest are counted


@click.group()
def audit() -> None:
    """The audit log: verify it; its signed checkpoints; proofs of single records."""


@audit.command("verify")
@click.option(
    "--checkpoints",
    "copy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a copy of the published checkpoints (from `panjereh audit checkpoints` or "
    "GET /api/v1/audit/checkpoints) kept outside the database",
)
def verify_command(copy: Path | None) -> None:
    """Recompute every shard's chain and check every signed checkpoint against the records.

    Names each record altered, deleted, inserted or moved; a tail cut off or a chain rewritten
    after a checkpoint; checkpoints not signed by the exchange's published keys; and, with
    --checkpoints, every checkpoint the log no longer holds as it was. Exit status 1 if
    anything is wrong.
    """
    settings = load()
    kept = _read_copy(copy) if copy is not None else None
    findings, summary, checked = asyncio.run(_verify(settings, kept))
    for finding in findings[:SHOWN]:
        click.echo(finding.line())
    if len(findings) > SHOWN:
        click.echo(f"... and {len(findings) - SHOWN} more")
    click.echo(
        f"{summary.records} records in {summary.shards} shards and {checked} checkpoints "
        f"checked; {len(findings)} problems"
    )
    for shard, (seq, head) in sorted((summary.heads or {}).items()):
        click.echo(f"  shard {shard}: last #{seq}, head {head}")
    # Control-plane events: their own chained stream (panjereh.cli.audit_privacy).
    if not check_control_plane(settings):
        raise SystemExit(1)
    if findings:
        raise SystemExit(1)


@audit.command("checkpoint")
def checkpoint_command() -> None:
    """Sign and store a checkpoint now (servers make one every
    PANJEREH_AUDIT_CHECKPOINT_SECONDS)."""
    settings = load()
    made = asyncio.run(_checkpoint(settings))
    if made is None:
        click.echo("nothing new since the last checkpoint")
        return
    click.echo(f"checkpoint {made.number}: {made.tree_size} records, hash {made.hash}")


@audit.command("checkpoints")
def checkpoints_command() -> None:
    """Print every checkpoint as published (JSON): keep a copy to verify against later."""
    settings = load()
    found = asyncio.run(_all_checkpoints(settings))
    click.echo(orjson.dumps([c.as_json() for c in found], option=orjson.OPT_INDENT_2).decode())


@audit.command("prove")
@click.argument("exchange_id")
def prove_command(exchange_id: str) -> None:
    """Print the proof (JSON) that the record with this X-Exchange-Id is in the log: the
    record, its inclusion proof and the signed checkpoint. Check it with check-proof."""
    settings = load()
    document = asyncio.run(_prove(settings, exchange_id))
    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


@audit.command("check-proof")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--keys",
    "jwks",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the exchange's public keys as a JWKS file (GET /exchange/v1/keys); "
    "default: this installation's published keys",
)
def check_proof_command(file: Path, jwks: Path | None) -> None:
    """Check a proof offline: the record's hash, its path to the checkpoint's Merkle root and
    the checkpoint's signature. Exit status 1 if it does not prove the record."""
    document = _read_json(file)
    keys = _jwks_keys(jwks) if jwks is not None else _public_keys(load())
    try:
        record = check_proof(document, keys.get)
    except ProofError as exc:
        click.echo(f"not proven: {exc}")
        raise SystemExit(1) from None
    checkpoint = document["checkpoint"]
    click.echo(
        f"proven: inquiry {record.exchange_id} ({record.service_id}, {record.outcome.value}, "
        f"{record.created_at.isoformat()}) is record #{document['seq']} of shard "
        f"{document['shard']}, in checkpoint {checkpoint['number']} signed by "
        f"{checkpoint['key_id']}"
    )


def _read_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a JSON file ({exc.__class__.__name__})") from None


def _jwks_keys(path: Path) -> dict[str, bytes]:
    document = _read_json(path)
    keys: dict[str, bytes] = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise UserError(f'{path}: not a JWKS document (no "keys" list)')
    for jwk in entries:
        if isinstance(jwk, dict) and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            x = str(jwk.get("x", ""))
            try:
                keys[str(jwk.get("kid", ""))] = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
            except ValueError:
                continue
    return keys


async def _prove(settings: Settings, exchange_id: str) -> dict[str, Any]:
    engine = create_engine(settings.effective_database_url)
    try:
        found = await prove(engine, exchange_id)
    except NotYetCheckpointed:
        raise UserError(
            "no checkpoint covers this record yet (one is made every "
            f"{settings.audit_checkpoint_seconds:g} s, or run `panjereh audit checkpoint`)"
        ) from None
    except (StorageError, SQLAlchemyError) as exc:
        raise UserError(f"cannot read the audit log: {exc.__class__.__name__}") from None
    finally:
        await engine.dispose()
    if found is None:
        raise UserError(f"no chained audit record has the exchange id {exchange_id!r}")
    return found[1]


def _read_copy(path: Path) -> list[Checkpoint]:
    document = _read_json(path)
    if not isinstance(document, list):
        raise UserError(f"{path}: expected a JSON list of checkpoints")
    try:
        return [Checkpoint.from_json(item) for item in document]
    except ValueError as exc:
        raise UserError(f"{path}: {exc}") from None


def _public_keys(settings: Settings) -> dict[str, bytes]:
    keys = exchange_keys(settings, SystemClock())
    raw: dict[str, bytes] = {}
    for key_id in keys.published:
        public = keys.public_key(key_id)
        if isinstance(public, Ed25519PublicKey):
            raw[key_id] = public.public_bytes_raw()
    return raw


async def _verify(
    settings: Settings, kept: list[Checkpoint] | None
) -> tuple[list[Finding], Summary, int]:
    engine = create_engine(settings.effective_database_url)
    store = SqlAuditStore(engine)
    findings: list[Finding] = []
    try:
        checker = ChainVerifier(await store.registered_shards())
        async for row in store.stored_records():
            findings.extend(checker.feed(row))
        findings.extend(checker.finish())
        logged = await CheckpointStore(engine).all()
        keys = _public_keys(settings)
        if kept is not None:
            findings.extend(compare_copies(kept, logged))
        checked = kept if kept is not None else logged
        findings.extend(await verify_checkpoints(engine, checked, keys.get))
    except (StorageError, SQLAlchemyError) as exc:
        raise UserError(f"cannot read the audit log: {exc.__class__.__name__}") from None
    finally:
        await store.close()
        await engine.dispose()
    return findings, checker.summary, len(checked)


async def _checkpoint(settings: Settings) -> Checkpoint | None:
    keys = exchange_keys(settings, SystemClock())
    engine = create_engine(settings.effective_database_url)
    try:
        return await create_checkpoint(
            engine, key_id=keys.active_id, sign=keys.private_key.sign, now=SystemClock().now()
        )
    except (StorageError, SQLAlchemyError) as exc:
        raise UserError(f"cannot write the checkpoint: {exc.__class__.__name__}") from None
    finally:
        await engine.dispose()


async def _all_checkpoints(settings: Settings) -> list[Checkpoint]:
    engine = create_engine(settings.effective_database_url)
    try:
        return await CheckpointStore(engine).all()
    except (StorageError, SQLAlchemyError) as exc:
        raise UserError(f"cannot read the checkpoints: {exc.__class__.__name__}") from None
    finally:
        await engine.dispose()


# Kept payloads (docs/audit-log.md, "Privacy"): panjereh.cli.audit_privacy.
audit.add_command(payload_command)
