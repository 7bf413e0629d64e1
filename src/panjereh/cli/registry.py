"""`panjereh registry ...`: the registry from the command line."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from panjereh.cli.common import UserError, change_options, cli_principal, run, settings, transaction
from panjereh.config import resolve_payload_keys, resolve_pepper
from panjereh.domain.clock import utc_now
from panjereh.domain.text import search_key
from panjereh.interchange.registry_document import AgencyDoc, GrantDoc, RegistryDocument
from panjereh.interchange.yaml_io import dump_document, format_path, parse_document
from panjereh.registry.model import Status
from panjereh.storage.document_repo import export_document, import_document
from panjereh.storage.registry_ops import RegistryOps

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise UserError(f"{text!r} is not a duration like 30m, 24h or 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@click.group()
def registry() -> None:
    """Agencies, systems, keys, services, grants (the control plane)."""


@registry.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; change nothing.")
@change_options
def import_(file: Path, dry_run: bool, actor: str, reason: str) -> None:
    """Merge a registry document (YAML) into the registry, in one transaction."""
    config = settings()
    principal = cli_principal(actor)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {file}: {exc}") from None
    document = parse_document(text, allow_private=config.allow_private_endpoints)

    async def go() -> str:
        async with transaction(config) as conn:
            result = await import_document(
                conn,
                document,
                actor=principal.actor,
                reason=reason,
                now=utc_now(),
                payload_key=resolve_payload_keys(config) is not None,
                allow_private=config.allow_private_endpoints,
            )
            if dry_run:
                await conn.rollback()
        created = ", ".join(f"{n} {k}" for k, n in sorted(result.created.items())) or "nothing"
        updated = ", ".join(f"{n} {k}" for k, n in sorted(result.updated.items())) or "nothing"
        prefix = "would create" if dry_run else "created"
        return f"{prefix} {created}; updated {updated}; {result.unchanged} unchanged"

    click.echo(run(go()))


@registry.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File (default: stdout).",
)
def export(output: Path | None) -> None:
    """Write the whole registry as one YAML document (see docs/registry-document.md)."""
    config = settings()

    async def go() -> RegistryDocument:
        async with transaction(config) as conn:
            return await export_document(conn)

    text = dump_document(run(go()))
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output}")


@registry.command()
def check() -> None:
    """Check the stored registry against today's rules (values let in by an earlier version's
    rules are read as stored, never dropped); exit status 1 when something is refused."""
    config = settings()

    async def go() -> RegistryDocument:
        async with transaction(config) as conn:
            return await export_document(conn)

    document = run(go())
    problems = document.problems_today(allow_private=config.allow_private_endpoints)
    for problem in problems:
        key = document.key_of(problem.path)
        click.echo(f"{format_path(problem.path)}{f' ({key})' if key else ''}: {problem.message}")
    if problems:
        click.echo(f"{len(problems)} problem(s): fix them before the next import", err=True)
        raise SystemExit(1)
    counts = ", ".join(
        f"{len(getattr(document, kind))} {kind}"
        for kind in ("agencies", "systems", "services", "grants")
    )
    click.echo(f"no problems: {counts} checked")


_KINDS = ("agencies", "systems", "services", "grants", "purposes", "citizen-services")


def _rows(document: RegistryDocument, kind: str) -> list[dict[str, Any]]:
    section = getattr(document, kind.replace("-", "_"))
    return [
        item.model_dump(
            mode="json", exclude={"request_schema", "response_schema", "api_keys", "signing_keys"}
        )
        for item in section
    ]


def _agency_of(kind: str, row: dict[str, Any]) -> str:
    if kind in ("agencies",):
        return str(row["code"])
    if kind in ("systems", "citizen-services"):
        return str(row["agency"])
    if kind == "services":
        return str(row["id"]).split(".", 1)[0]
    if kind == "grants":
        return str(row["consumer"]).split("/", 1)[0]
    return ""


def _summary(kind: str, row: dict[str, Any]) -> str:
    if kind == "agencies":
        return f"{row['code']:28} {row['status']:10} {row['name_fa']} / {row['name_en']}"
    if kind == "systems":
        return f"{row['agency']}/{row['code']:28} {row['status']:10} {','.join(row['roles'])}"
    if kind == "services":
        return f"{row['id']:60} {row['status']:10} {row['name_fa']}"
    if kind == "grants":
        return f"{row['consumer']:40} -> {row['service']:55} {row['status']}"
    if kind == "purposes":
        return f"{row['code']:28} {row['name_fa']} / {row['name_en']}"
    return f"{row['id']:60} {row['delivery']:10} {row['title_fa']}"


@registry.command("list")
@click.argument("kind", type=click.Choice(_KINDS))
@click.option("--search", "-s", help="Text to find (Persian normalized: ي/ی, ك/ک, digits, ZWNJ).")
@click.option("--agency", help="Only this agency's objects.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
def list_(kind: str, search: str | None, agency: str | None, as_json: bool) -> None:
    """List one kind of registry object."""
    config = settings()

    async def go() -> RegistryDocument:
        async with transaction(config) as conn:
            return await export_document(conn)

    rows = _rows(run(go()), kind)
    if agency is not None:
        rows = [r for r in rows if _agency_of(kind, r) == agency]
    if search:
        needle = search_key(search)
        rows = [r for r in rows if needle in search_key(json.dumps(r, ensure_ascii=False))]
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False) if as_json else _summary(kind, row))
    if not as_json:
        click.echo(f"({len(rows)} {kind})", err=True)


def _ops(conn: Any, actor: str, reason: str) -> RegistryOps:
    config = settings()
    return RegistryOps(
        conn,
        cli_principal(actor),
        now=utc_now(),
        reason=reason,
        pepper=resolve_pepper(config),
        allow_private=config.allow_private_endpoints,
        payload_key=resolve_payload_keys(config) is not None,
    )


@registry.command()
@click.argument("consumer")
@click.argument("service")
@click.option(
    "--purpose", "purposes", multiple=True, required=True, help="Allowed purpose (repeat)."
)
@click.option(
    "--field",
    "projection",
    multiple=True,
    help="JSON Pointer of a field it may see (repeat; default all).",
)
@change_options
def grant(
    consumer: str,
    service: str,
    purposes: tuple[str, ...],
    projection: tuple[str, ...],
    actor: str,
    reason: str,
) -> None:
    """Give CONSUMER (agency/system) an active grant on SERVICE."""
    config = settings()

    async def go() -> GrantDoc:
        doc = GrantDoc.model_validate(
            {
                "consumer": consumer,
                "service": service,
                "purposes": list(purposes),
                "projection": list(projection) or None,
                "justification": reason,
            }
        )
        async with transaction(config) as conn:
            return await _ops(conn, actor, reason).grant_directly(doc)

    result = run(go())
    click.echo(f"granted {result.consumer} -> {result.service} for {', '.join(result.purposes)}")


@registry.command()
@click.argument("consumer")
@click.argument("service")
@change_options
def revoke(consumer: str, service: str, actor: str, reason: str) -> None:
    """End CONSUMER's grant on SERVICE (refused by the exchange within a second)."""
    config = settings()

    async def go() -> GrantDoc:
        async with transaction(config) as conn:
            return await _ops(conn, actor, reason).revoke_grant(consumer, service)

    result = run(go())
    click.echo(f"revoked {result.consumer} -> {result.service}")


@registry.command("rotate-key")
@click.argument("system")
@click.option("--overlap", default="24h", show_default=True, help="How long old keys keep working.")
@change_options
def rotate_key(system: str, overlap: str, actor: str, reason: str) -> None:
    """Issue SYSTEM a new API key; its current keys expire after the overlap."""
    config = settings()
    window = parse_duration(overlap)

    async def go() -> str:
        async with transaction(config) as conn:
            key, _ = await _ops(conn, actor, reason).rotate_api_key(system, overlap=window)
            return key

    key = run(go())
    click.echo(f"new API key for {system} (shown once, store it now):\n{key}")


@registry.command()
@click.argument("agency")
@click.option(
    "--block",
    "blocks",
    multiple=True,
    help="A private address block (CIDR, e.g. 10.20.0.0/16) its endpoints may resolve into "
    "(repeat; none given: no private address).",
)
@click.option(
    "--allow-http/--https-only",
    default=False,
    show_default=True,
    help="Whether its provider endpoints may be plain http://.",
)
@change_options
def network(
    agency: str, blocks: tuple[str, ...], allow_http: bool, actor: str, reason: str
) -> None:
    """Record where AGENCY's provider endpoints may be (replaces what was recorded)."""
    config = settings()

    async def go() -> AgencyDoc:
        async with transaction(config) as conn:
            return await _ops(conn, actor, reason).set_agency_network(
                agency, private_blocks=list(blocks), allow_http=allow_http
            )

    result = run(go())
    recorded = ", ".join(result.network.private_blocks) if result.network else ""
    scheme = "http or https" if allow_http else "https only"
    click.echo(f"agency {agency}: private blocks {recorded or 'none'}; {scheme}")


@registry.command()
@click.argument("kind", type=click.Choice(["agency", "system"]))
@click.argument("code")
@change_options
def suspend(kind: str, code: str, actor: str, reason: str) -> None:
    """Stop every inquiry of an agency (CODE) or system (agency/system) at once."""
    _set_status(kind, code, Status.SUSPENDED, actor, reason)


@registry.command()
@click.argument("kind", type=click.Choice(["agency", "system"]))
@click.argument("code")
@change_options
def reactivate(kind: str, code: str, actor: str, reason: str) -> None:
    """Undo a suspension."""
    _set_status(kind, code, Status.ACTIVE, actor, reason)


def _set_status(kind: str, code: str, status: Status, actor: str, reason: str) -> None:
    config = settings()

    async def go() -> None:
        async with transaction(config) as conn:
            ops = _ops(conn, actor, reason)
            if kind == "agency":
                await ops.set_agency_status(code, status)
            else:
                await ops.set_system_status(code, status)

    run(go())
    click.echo(f"{kind} {code} is {status.value}")
