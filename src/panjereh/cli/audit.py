"""`panjereh audit ...`: verifying the audit log, and its signed checkpoints
(docs/audit-log.md)."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.exc import SQLAlchemyError

from panjereh.audit.checkpoints import Checkpoint
from panjereh.audit.heads import HeadEvidence
from panjereh.audit.proofs import ProofError
from panjereh.audit.proofs import check as check_proof
from panjereh.audit.publish import read_published
from panjereh.cli.audit_privacy import check_control_plane, payload_command
from panjereh.cli.common import UserError
from panjereh.cli.common import settings as load
from panjereh.config import Settings
from panjereh.domain.clock import SystemClock
from panjereh.domain.text import ascii_digits
from panjereh.storage.archive_cuts import load_cuts
from panjereh.storage.archive_repo import check_across_cuts
from panjereh.storage.audit_scan import Report, verify_log
from panjereh.storage.checkpoints_repo import (
    CheckpointStore,
    NotYetCheckpointed,
    create_checkpoint,
    prove,
)
from panjereh.storage.engine import StorageError, create_engine
from panjereh.web.runtime import exchange_keys

SHOWN = 50  # findings printed in full; the rest are counted


@click.group()
def audit() -> None:
    """The audit log: verify it; its signed checkpoints; proofs of single records."""


class _Moment(click.ParamType[datetime, Any]):
    """An ISO 8601 date or time (``2026-12-02``, ``2026-12-02T09:30``, with ``Z`` or an
    offset; without one it is UTC); Persian or Arabic-Indic digits are read as digits."""

    name = "ISO date or time"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        text = ascii_digits(str(value).strip())
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO date or time (e.g. 2026-12-02 or 2026-12-02T09:30Z) / "
                "تاریخ یا زمان به قالب ISO نیست",
                param,
                ctx,
            )
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@audit.command("verify")
@click.option(
    "--checkpoints",
    "copy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a copy of the published checkpoints (from `panjereh audit checkpoints` or "
    "GET /api/v1/audit/checkpoints) kept outside the database",
)
@click.option(
    "--since",
    type=_Moment(),
    help="verify only the records created at or after this time (ISO date or time, UTC "
    "unless it says otherwise)",
)
@click.option("--until", type=_Moment(), help="verify only the records created before this time")
@click.option(
    "--published",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="a collected copy of PANJEREH_AUDIT_PUBLISH_DIR: the signed heads and checkpoints "
    "published outside the database as they were made",
)
def verify_command(
    copy: Path | None, since: datetime | None, until: datetime | None, published: Path | None
) -> None:
    """Recompute every shard's chain and check every signed checkpoint against the records.

    Names each record altered, deleted, inserted or moved; a tail cut off or a chain rewritten
    after a checkpoint; checkpoints not signed by the exchange's published keys; and, with
    --checkpoints, every checkpoint the log no longer holds as it was. The control-plane
    events are recomputed too and compared with the stream heads the checkpoints pinned.
    Exit status 1 if anything is wrong.

    With --since/--until only the records created in that window are verified, each shard
    from the stored hash of the record before the window (trusted), with the checkpoints
    that lie wholly in it and the signature of every checkpoint touching it: it proves the
    window's consistency and its link to the record before; a full verify proves everything.

    The whole log is also weighed against its writers' signed heads: records after a shard's
    last signed head, a signed head whose record is gone, a gone writer's shard left open.
    With --published, against the heads and checkpoints published outside the database too,
    which names a tail cut together with the heads stored beside it.
    """
    if since is not None and until is not None and until <= since:
        raise UserError("--until must be later than --since / پایان باید بعد از آغاز باشد")
    settings = load()
    kept = _read_copy(copy) if copy is not None else None
    heads = HeadEvidence(
        SystemClock().now(), settings.audit_head_seconds, settings.audit_lease_seconds
    )
    if published is not None:
        kept = _read_published(published, heads, kept)
    report = asyncio.run(_verify(settings, kept, since, until, heads))
    findings = report.findings
    for finding in findings[:SHOWN]:
        click.echo(finding.line())
    if len(findings) > SHOWN:
        click.echo(f"... and {len(findings) - SHOWN} more")
    summary = report.summary
    click.echo(
        f"{summary.records} records in {summary.shards} shards and {report.checked} "
        f"checkpoints checked; {len(findings)} problems"
    )
    _echo_details(report)
    # Control-plane events: their own chained stream, pinned by the checkpoints
    # (panjereh.cli.audit_privacy).
    if not check_control_plane(settings, kept):
        raise SystemExit(1)
    if findings:
        raise SystemExit(1)


def _echo_details(report: Report) -> None:
    summary = report.summary
    for shard, (seq, head) in sorted((summary.heads or {}).items()):
        click.echo(f"  shard {shard}: last #{seq}, head {head}")
    if report.unchecked:
        numbers = ", ".join(str(n) for n in report.unchecked)
        click.echo(f"  Merkle roots not recomputed (records partly elsewhere): {numbers}")
    if report.window is not None:
        _echo_window(report)
    if report.evidence is not None and report.evidence.pending:
        click.echo(
            f"  {report.evidence.pending} records of live writers not signed yet (within "
            f"{report.evidence.grace():g} s of their last signed head)"
        )


def _read_published(
    folder: Path, heads: HeadEvidence, kept: list[Checkpoint] | None
) -> list[Checkpoint] | None:
    """The published heads into ``heads``; the published checkpoints added to ``kept`` (a
    copy kept outside, like --checkpoints)."""
    heads.published, checkpoints, bad = read_published(folder)
    for line in bad:
        click.echo(f"unreadable published line: {line}")
    if not checkpoints:
        return kept
    by_number = {c.number: c for c in [*checkpoints, *(kept or [])]}
    return [by_number[n] for n in sorted(by_number)]


def _echo_window(report: Report) -> None:
    window = report.window
    assert window is not None  # noqa: S101 - the caller checked
    since = "the beginning" if window.since is None else _utc(window.since)
    until = "now" if window.until is None else _utc(window.until)
    click.echo(f"window: records created from {since} until {until}")
    for shard, (first, last) in sorted(window.ranges.items()):
        seq, head = window.trusted[shard]
        start = "the shard's beginning" if seq == 0 else f"#{seq}, whose stored hash {head}"
        click.echo(f"  shard {shard}: #{first} to #{last}, linked to {start} (trusted)")
    click.echo(
        "a window check proves the window's records and their link to the record before it; "
        "run `panjereh audit verify` without --since/--until to prove the whole log"
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    settings: Settings,
    kept: list[Checkpoint] | None,
    since: datetime | None,
    until: datetime | None,
    heads: HeadEvidence,
) -> Report:
    engine = create_engine(settings.effective_database_url)
    try:
        keys = _public_keys(settings)
        # Months archived and detached (audit_archives): each shard's chain starts at its cut.
        cuts = await load_cuts(engine)
        windowed = since is not None or until is not None
        report = await verify_log(
            engine,
            keys.get,
            kept=kept,
            starts=cuts.starts(),
            since=since,
            until=until,
            heads=heads,
        )
        if cuts.cuts and report.unchecked and not windowed:
            checked = kept if kept is not None else await CheckpointStore(engine).all()
            across = [c for c in checked if c.number in report.unchecked]
            report.checkpoints.extend(await check_across_cuts(engine, across, cuts))
            done = {c.number for c in across}
            report.unchecked = [n for n in report.unchecked if n not in done]
    except StorageError as exc:
        raise UserError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise UserError(f"cannot read the audit log: {exc.__class__.__name__}") from None
    finally:
        await engine.dispose()
    return report


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
