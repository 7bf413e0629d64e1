"""`panjereh audit ...`: checking the audit log's chains (docs/audit-log.md)."""

from __future__ import annotations

import asyncio

import click
from sqlalchemy.exc import SQLAlchemyError

from panjereh.audit.verify import ChainVerifier, Finding, Summary
from panjereh.cli.common import UserError
from panjereh.cli.common import settings as load
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.engine import StorageError, create_engine

SHOWN = 50  # findings printed in full; the rest are counted


@click.group()
def audit() -> None:
    """The audit log: verify its chains."""


@audit.command("verify")
def verify_command() -> None:
    """Recompute every shard's chain from the stored records; name the first record of each
    break (altered, deleted, inserted or moved records). Exit status 1 if anything is wrong.

    Without published checkpoints a cut-off tail cannot be told from a shorter log; the
    checkpoints that pin each shard's head come with the rest of issue 5.
    """
    settings = load()
    findings, summary = asyncio.run(_verify(settings.effective_database_url))
    for finding in findings[:SHOWN]:
        click.echo(finding.line())
    if len(findings) > SHOWN:
        click.echo(f"... and {len(findings) - SHOWN} more")
    heads = summary.heads or {}
    click.echo(
        f"{summary.records} records in {summary.shards} shards checked; {len(findings)} problems"
    )
    for shard, (seq, head) in sorted(heads.items()):
        click.echo(f"  shard {shard}: last #{seq}, head {head}")
    if findings:
        raise SystemExit(1)


async def _verify(url: str) -> tuple[list[Finding], Summary]:
    engine = create_engine(url)
    store = SqlAuditStore(engine)
    findings: list[Finding] = []
    try:
        checker = ChainVerifier(await store.registered_shards())
        async for row in store.stored_records():
            findings.extend(checker.feed(row))
        findings.extend(checker.finish())
    except (StorageError, SQLAlchemyError) as exc:
        raise UserError(f"cannot read the audit log: {exc.__class__.__name__}") from None
    finally:
        await store.close()
        await engine.dispose()
    return findings, checker.summary
