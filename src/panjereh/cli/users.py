"""`panjereh user ...`: operator, agency-admin and auditor accounts."""

from __future__ import annotations

from datetime import timedelta

import click

from panjereh.cli.common import UserError, change_options, cli_principal, run, settings, transaction
from panjereh.domain.clock import utc_now
from panjereh.registry.access import Role
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
