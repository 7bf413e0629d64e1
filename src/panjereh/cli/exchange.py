"""`panjereh exchange ...`: the exchange's signing keys, and checking a signed answer offline."""

from __future__ import annotations

import click

from panjereh.cli.common import settings as load
from panjereh.domain.clock import SystemClock, utc_now
from panjereh.exchange.keys import retire, rotate
from panjereh.web.runtime import exchange_keys


@click.group()
def exchange() -> None:
    """The exchange's signing keys and signed answers."""


@exchange.command("keys")
def list_keys() -> None:
    """List the published signing keys (the first one is made if there is none)."""
    settings = load()
    keys = exchange_keys(settings, SystemClock())
    for key in sorted(keys.published.values(), key=lambda k: k.key_id, reverse=True):
        state = "active" if key.active else "retired"
        click.echo(f"{key.key_id}  {state}  {key.jwk()['x']}")


@exchange.command("rotate-key")
def rotate_key() -> None:
    """Make a new active signing key; older keys stay published for verification.

    Running servers pick the new key up within a few seconds.
    """
    settings = load()
    key_id = rotate(settings.effective_keys_dir, utc_now())
    click.echo(f"new active key {key_id} in {settings.effective_keys_dir}")


@exchange.command("retire-key")
@click.argument("key_id")
def retire_key(key_id: str) -> None:
    """Delete an old key's private half (its public half stays published)."""
    settings = load()
    retire(settings.effective_keys_dir, key_id)
    click.echo(f"retired {key_id}: it signs nothing more and stays published")
