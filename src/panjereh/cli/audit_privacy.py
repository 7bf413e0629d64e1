"""`panjereh audit payload ...` (an auditor reads a kept body) and the control-plane part of
`panjereh audit verify` (docs/audit-log.md, "Privacy" and "Control-plane events")."""

from __future__ import annotations

import asyncio
import sys

import click
from sqlalchemy.exc import SQLAlchemyError

from panjereh.audit.checkpoints import Checkpoint
from panjereh.audit.events_chain import STREAM, EventChainVerifier, EventFinding, EventSummary
from panjereh.audit.payloads import PayloadError, PayloadKind, SealedPayload
from panjereh.cli.common import UserError, cli_principal, transaction
from panjereh.cli.common import settings as load
from panjereh.config import Settings, resolve_payload_keys
from panjereh.domain.clock import utc_now
from panjereh.domain.events import AuditEvent, EventOutcome
from panjereh.storage.audit_repo import read_sealed_payloads
from panjereh.storage.checkpoints_repo import CheckpointStore
from panjereh.storage.engine import StorageError, create_engine
from panjereh.storage.events_repo import ConnectionAuditSink, stored_events, stream_head

SHOWN = 50


@click.command("payload")
@click.argument("exchange_id")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in PayloadKind]),
    help="Only this body, written as it was (bytes, for piping); default: both, labelled.",
)
@click.option("--actor", required=True, help="Who reads it (recorded).")
@click.option("--reason", required=True, help="Why (recorded): reading payloads is audited.")
def payload_command(exchange_id: str, kind: str | None, actor: str, reason: str) -> None:
    """Decrypt the kept request and/or response body of one inquiry (X-Exchange-Id).

    Only inquiries to services with keep_payloads have them. Every reading, and every failed
    attempt to decrypt, is recorded as a control-plane event (audit-payload.read).
    """
    settings = load()
    wanted = PayloadKind(kind) if kind is not None else None
    opened = asyncio.run(_read(settings, exchange_id, wanted, cli_principal(actor).actor, reason))
    if wanted is not None:
        sys.stdout.buffer.write(opened[0][1])
        sys.stdout.buffer.flush()
        return
    for sealed, body in opened:
        click.echo(f"== {sealed.kind.value} (key {sealed.key_id}) ==")
        click.echo(body.decode("utf-8", errors="replace"))


async def _read(
    settings: Settings, exchange_id: str, kind: PayloadKind | None, actor: str, reason: str
) -> list[tuple[SealedPayload, bytes]]:
    keys = resolve_payload_keys(settings)
    if keys is None:
        raise UserError(
            "no payload key is configured (PANJEREH_AUDIT_PAYLOAD_KEY and "
            "PANJEREH_AUDIT_PAYLOAD_KEY_ID, with PANJEREH_AUDIT_PAYLOAD_PREVIOUS_KEYS for "
            "older ones)"
        )
    problem: PayloadError | None = None
    opened: list[tuple[SealedPayload, bytes]] = []
    try:
        async with transaction(settings) as conn:
            sealed = [
                s for s in await read_sealed_payloads(conn, exchange_id) if kind in (None, s.kind)
            ]
            if not sealed:
                raise UserError(
                    f"no kept payload for exchange id {exchange_id!r} (no such inquiry, or its "
                    "service does not keep payloads)"
                )
            try:
                opened = [(s, keys.open(s)) for s in sealed]
            except PayloadError as exc:
                problem = exc
            await ConnectionAuditSink(conn).emit(
                AuditEvent(
                    at=utc_now(),
                    actor=actor,
                    action="audit-payload.read",
                    object_type="audit-record",
                    object_id=exchange_id,
                    reason=reason,
                    before=None,
                    after={
                        "kinds": [s.kind.value for s in sealed],
                        "key_ids": sorted({s.key_id for s in sealed}),
                    },
                    outcome=EventOutcome.FAILED if problem else EventOutcome.SUCCEEDED,
                )
            )
    except (StorageError, SQLAlchemyError) as exc:
        raise UserError(f"cannot read the audit log: {exc.__class__.__name__}") from None
    if problem is not None:
        raise UserError(str(problem))
    return opened


# `panjereh audit verify`: the control-plane stream -----------------------------------------


def check_control_plane(settings: Settings, kept: list[Checkpoint] | None = None) -> bool:
    """Recompute the control-plane event stream and compare it with the heads the signed
    checkpoints pinned (``kept``, a copy kept elsewhere, or the log's own); print what is
    wrong and a summary line; True when nothing is."""
    findings, summary, pins = asyncio.run(_verify_events(settings, kept))
    for finding in findings[:SHOWN]:
        click.echo(finding.line())
    if len(findings) > SHOWN:
        click.echo(f"... and {len(findings) - SHOWN} more")
    click.echo(
        f"{summary.events} control-plane events checked; {len(findings)} problems"
        + (f" (last #{summary.last_seq}, head {summary.head})" if summary.last_seq else "")
    )
    if pins:
        last = max(pins, key=lambda pin: pin[0])
        plural = "s" if len(pins) != 1 else ""
        click.echo(
            f"  compared with the heads {len(pins)} signed checkpoint{plural} pinned; the last, "
            f"checkpoint {last[0]}, pinned #{last[1]}"
        )
    return not findings


async def _verify_events(
    settings: Settings, kept: list[Checkpoint] | None
) -> tuple[list[EventFinding], EventSummary, list[tuple[int, int, str]]]:
    engine = create_engine(settings.effective_database_url)
    findings: list[EventFinding] = []
    try:
        # The checkpoints first: every event they pin was committed before them.
        checkpoints = kept if kept is not None else await CheckpointStore(engine).all()
        pins = [
            (c.number, *c.events[STREAM])
            for c in checkpoints
            if c.events is not None and STREAM in c.events
        ]
        checker = EventChainVerifier(pinned=[seq for _, seq, _ in pins])
        async for row in stored_events(engine):
            findings.extend(checker.feed(row))
        findings.extend(checker.finish(await stream_head(engine)))
        findings.extend(checker.check_pins(pins))
    except (StorageError, SQLAlchemyError) as exc:
        raise UserError(f"cannot read the control-plane events: {exc.__class__.__name__}") from None
    finally:
        await engine.dispose()
    return findings, checker.summary, pins
