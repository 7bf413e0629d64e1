"""`panjereh user ...`: operator, agency-admin and auditor accounts, and the sign-in
throttle's locks (docs/operator-area.md, "Sign-in throttle")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import click

from panjereh.cli.common import UserError, change_options, cli_principal, run, settings, transaction
from panjereh.config import Settings, resolve_pepper
from panjereh.domain.clock import utc_now
from panjereh.domain.errors import InvalidValue
from panjereh.domain.identifiers import NationalCode
from panjereh.domain.throttle import (
    KeyKind,
    KeyState,
    Throttle,
    ThrottleKey,
    account_key,
    address_key,
)
from panjereh.registry.access import Role
from panjereh.storage.engine import create_engine
from panjereh.storage.migrate import ensure_current
from panjereh.storage.redis_state import connect
from panjereh.storage.throttle import build_throttle
from panjereh.storage.totp_repo import reset_totp
from panjereh.storage.users_repo import create_user, get_user, issue_token


@click.group()
def user() -> None:
    """People who manage the registry."""


@user.command()
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.OPERATOR.value,
    show_default=True,
)
@click.option("--agency", help="The agency code of an agency-admin.")
@click.option("--name", "display_name", help="Display name (default: the user name).")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 12 characters (prompted if omitted).",
)
@change_options
def create(
    username: str,
    role: str,
    agency: str | None,
    display_name: str | None,
    password: str,
    actor: str,
    reason: str,
) -> None:
    """Create an account (the first operator is made this way)."""
    config = settings()

    async def go() -> None:
        async with transaction(config) as conn:
            await create_user(
                conn,
                cli_principal(actor),
                username=username,
                display_name=display_name or username,
                role=Role(role),
                agency=agency,
                password=password,
                reason=reason,
                now=utc_now(),
            )

    run(go())
    click.echo(f"created {role} {username}")


@user.command()
@click.argument("username")
@click.option(
    "--days", default=90, show_default=True, type=click.IntRange(1, 366), help="Lifetime."
)
@click.option("--label", default="cli", show_default=True)
def token(username: str, days: int, label: str) -> None:
    """Issue USERNAME a bearer token for the management API (shown once)."""
    config = settings()

    async def go() -> str:
        async with transaction(config) as conn:
            found = await get_user(conn, username)
            if found is None:
                raise UserError(f"no user {username!r}")
            return await issue_token(
                conn, found, label=label, lifetime=timedelta(days=days), now=utc_now()
            )

    click.echo(run(go()))


@asynccontextmanager
async def _throttle(config: Settings) -> AsyncIterator[Throttle]:
    """The server's throttle: the same database, and Redis when the server uses it."""
    engine = create_engine(config.effective_database_url)
    redis = connect(config.redis_url) if config.redis_url else None
    try:
        await ensure_current(engine)
        yield build_throttle(engine, redis, pepper=resolve_pepper(config))
    finally:
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


def _shown(state: KeyState) -> str:
    until = state.locked_until.isoformat() if state.locked_until else "-"
    return (
        f"{state.shown}  failures={state.failures}  locked_until={until}  refusals={state.refusals}"
    )


@user.command()
def lockouts() -> None:
    """List the keys the sign-in throttle has locked (and not yet forgotten)."""
    config = settings()

    async def go() -> list[KeyState]:
        async with _throttle(config) as throttle:
            return await throttle.lockouts(utc_now(), limit=1000)

    found = run(go())
    for state in found:
        click.echo(_shown(state))
    if not found:
        click.echo("no locks")


def _key(username: str | None, address: str | None, national_code: str | None) -> ThrottleKey:
    given = [v for v in (username, address, national_code) if v]
    if len(given) != 1:
        raise UserError("name exactly one of USERNAME, --address or --national-code")
    try:
        if address:
            return address_key(address)
        if national_code:
            return ThrottleKey(KeyKind.NATIONAL_CODE, NationalCode.parse(national_code).value, "")
    except (ValueError, InvalidValue) as exc:
        raise UserError(f"not an address or national code: {exc}") from None
    return account_key(username or "")


@user.command()
@click.argument("username", required=False)
@click.option("--address", help="A client address (IPv6: its /64 is lifted).")
@click.option("--national-code", help="A citizen's national code.")
@change_options
def unlock(
    username: str | None,
    address: str | None,
    national_code: str | None,
    actor: str,
    reason: str,
) -> None:
    """Lift the sign-in throttle's lock of an account USERNAME, an address or a national
    code (recorded as a sign-in-throttle.lift event)."""
    config = settings()
    key = _key(username, address, national_code)
    principal = cli_principal(actor)

    async def go() -> KeyState | None:
        async with _throttle(config) as throttle:
            return await throttle.lift(key, utc_now(), principal.actor, reason)

    lifted = run(go())
    if lifted is None:
        raise UserError(f"{key.kind.value} is not locked (no failures counted)")
    click.echo(f"lifted {_shown(lifted)}")


@user.command("totp-reset")
@click.argument("username")
@change_options
def totp_reset(username: str, actor: str, reason: str) -> None:
    """Turn USERNAME's two-step sign-in (TOTP) off, e.g. after a lost phone: they sign in with
    the password and enrol again (recorded as a user.totp-reset event)."""
    config = settings()

    async def go() -> None:
        async with transaction(config) as conn:
            await reset_totp(conn, cli_principal(actor), username, reason=reason, now=utc_now())

    run(go())
    click.echo(f"two-step sign-in of {username} is off; they enrol again at their next sign-in")
