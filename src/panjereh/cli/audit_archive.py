"""`panjereh audit partitions|archive|verify-archive|detach`: the audit log's volume and
retention (docs/audit-log.md, "Volume and retention")."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from panjereh.audit.archive import ArchiveReport, Month
from panjereh.cli.audit import SHOWN, _jwks_keys, _public_keys
from panjereh.cli.common import UserError, cli_principal
from panjereh.cli.common import settings as load
from panjereh.domain.clock import SystemClock
from panjereh.storage.archive_repo import (
    ArchiveError,
    Detached,
    check_file,
    detach_month,
    export_month,
)
from panjereh.storage.engine import StorageError, create_engine
from panjereh.storage.migrate import ensure_current
from panjereh.storage.partitions import Partition, ensure_partitions, list_partitions
from panjereh.web.runtime import exchange_keys


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError:
        raise UserError(f"--month: {text!r} is not a month (YYYY-MM, e.g. 2026-11)") from None


@click.command("partitions")
@click.option(
    "--ensure",
    is_flag=True,
    help="first create the partitions of this month and the next two (PostgreSQL)",
)
def partitions_command(ensure: bool) -> None:
    """List the audit log's months: live partitions (PostgreSQL; on SQLite the months of its
    one table) with their rows, and the months archived and detached."""
    made, found = asyncio.run(_partitions(ensure))
    for name in made:
        click.echo(f"created {name}")
    for partition in found:
        rows = "-" if partition.rows is None else str(partition.rows)
        click.echo(
            f"{partition.month}  {partition.state.value:<8}  {rows:>10}  {partition.name or ''}"
        )


async def _partitions(ensure: bool) -> tuple[list[str], list[Partition]]:
    engine = create_engine(load().effective_database_url)
    try:
        await ensure_current(engine)
        made = await ensure_partitions(engine, SystemClock().now()) if ensure else []
        return made, await list_partitions(engine)
    except SQLAlchemyError as exc:
        raise UserError(f"cannot read the audit log: {exc.__class__.__name__}") from None
    finally:
        await engine.dispose()


@click.command("archive")
@click.option("--month", "month_text", required=True, help="the UTC month, YYYY-MM")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the archive file to write (must not exist)",
)
def archive_command(month_text: str, out: Path) -> None:
    """Write a month's audit records, every shard, with the checkpoints that cover them and
    the records' kept payloads (still sealed), to a signed archive (format
    panjereh.audit-archive/1, or /2 with payloads). The month is verified first: a month
    whose chains or checkpoints do not verify is not archived."""
    month = _month(month_text)
    report = asyncio.run(_archive(month, out))
    kept = f", {report.payloads} kept payloads" if report.payloads else ""
    click.echo(
        f"archived {month}: {report.records} records of {len(report.shards)} shards{kept} and "
        f"{len(report.checkpoints)} checkpoints to {out}, sha256 {report.sha256}, signed by "
        f"{report.key_id}"
    )


async def _archive(month: Month, out: Path) -> ArchiveReport:
    settings = load()
    clock = SystemClock()
    keys = exchange_keys(settings, clock)
    public = _public_keys(settings)
    engine = create_engine(settings.effective_database_url)
    try:
        await ensure_current(engine)
        return await export_month(
            engine,
            month,
            out,
            key_id=keys.active_id,
            sign=keys.private_key.sign,
            now=clock.now(),
            public_key_for=public.get,
        )
    except ArchiveError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"{out}: cannot write it ({exc.__class__.__name__})") from None
    except (StorageError, SQLAlchemyError) as exc:
        raise UserError(f"cannot read the audit log: {exc.__class__.__name__}") from None
    finally:
        await engine.dispose()


@click.command("verify-archive")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--keys",
    "jwks",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the exchange's public keys as a JWKS file (GET /exchange/v1/keys); "
    "default: this installation's published keys",
)
def verify_archive_command(file: Path, jwks: Path | None) -> None:
    """Check an archive offline: its signature and digests, every record's chain link, every
    kept payload after its record, the heads its checkpoints pinned and the Merkle root of
    every checkpoint it holds whole. Exit status 1 naming the first problem."""
    keys = _jwks_keys(jwks) if jwks is not None else _public_keys(load())
    try:
        report = check_file(file, keys.get)
    except OSError as exc:
        raise UserError(f"{file}: cannot read it ({exc.__class__.__name__})") from None
    for finding in report.findings[:SHOWN]:
        click.echo(finding.text())
    if len(report.findings) > SHOWN:
        click.echo(f"... and {len(report.findings) - SHOWN} more")
    if report.findings:
        click.echo(f"not verified: {len(report.findings)} problems")
        raise SystemExit(1)
    partial = len(report.checkpoints) - len(report.merkle_checked)
    kept = f", {report.payloads} kept payloads" if report.payloads else ""
    click.echo(
        f"verified: {report.month}, {report.records} records of {len(report.shards)} shards"
        f"{kept}, "
        f"{len(report.checkpoints)} checkpoints ({len(report.merkle_checked)} Merkle roots "
        f"checked, {partial} reaching past the month), signed by {report.key_id}"
    )
    for shard, cut in sorted(report.shards.items()):
        click.echo(f"  shard {shard}: #{cut.first} to #{cut.last}, head {cut.head}")


@click.command("detach")
@click.option("--month", "month_text", required=True, help="the UTC month, YYYY-MM")
@click.option(
    "--archive",
    "archive",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the month's archive (from `panjereh audit archive`)",
)
@click.option(
    "--keep",
    is_flag=True,
    help="keep the detached partition as a plain append-only table (PostgreSQL) "
    "instead of dropping it",
)
@click.option("--actor", required=True, help="who detaches (recorded in the event)")
@click.option("--reason", required=True, help="why (recorded in the event)")
def detach_command(month_text: str, archive: Path, keep: bool, actor: str, reason: str) -> None:
    """Take an archived month out of the live log, with its records' kept payloads. Refused
    unless the archive verifies and holds exactly the month's live records and payloads;
    `panjereh audit verify` then starts each shard's chain after the archived records."""
    month = _month(month_text)
    principal = cli_principal(actor)
    done = asyncio.run(_detach(month, archive, keep, principal.actor, reason))
    where = f"kept as {done.kept_as}" if done.kept_as else "dropped"
    kept = f" and {done.payloads} kept payloads" if done.payloads else ""
    click.echo(
        f"detached {done.month}: {done.records} records of {done.shards} shards{kept} "
        f"({where}); archive sha256 {done.file_sha256}"
    )


async def _detach(month: Month, archive: Path, keep: bool, actor: str, reason: str) -> Detached:
    settings = load()
    engine = create_engine(settings.effective_database_url)
    try:
        await ensure_current(engine)
        return await detach_month(
            engine,
            month,
            archive,
            keep=keep,
            actor=actor,
            reason=reason,
            now=SystemClock().now(),
            public_key_for=_public_keys(settings).get,
        )
    except ArchiveError as exc:
        raise UserError(str(exc)) from None
    except (StorageError, SQLAlchemyError) as exc:
        raise UserError(f"cannot change the audit log: {exc.__class__.__name__}") from None
    finally:
        await engine.dispose()


COMMANDS = (partitions_command, archive_command, verify_archive_command, detach_command)
