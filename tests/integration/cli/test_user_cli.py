"""`panjereh user lockouts`, `unlock` and `totp-reset`: the sign-in throttle's locks and a
staff member's TOTP from the server's command line, each change a recorded event."""

from __future__ import annotations

from pathlib import Path

import pyotp
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.config import Environment, Settings, resolve_pepper
from panjereh.domain.clock import utc_now
from panjereh.domain.throttle import OBJECT_TYPE, account_key, address_key
from panjereh.registry.access import Principal, Role
from panjereh.storage.events_repo import events_for
from panjereh.storage.throttle import build_throttle
from panjereh.storage.totp_repo import TotpKeys, begin_enrolment, confirm_enrolment, totp_status
from panjereh.storage.users_repo import create_user
from tests.integration.cli.runner import Cli


async def lock(engine: AsyncEngine, data_dir: Path) -> None:
    pepper = resolve_pepper(Settings(env=Environment.DEVELOPMENT, data_dir=data_dir))
    throttle = build_throttle(engine, None, pepper=pepper)
    for _ in range(6):
        await throttle.fail(
            [account_key("owner"), address_key("2001:db8:1:2::9")], utc_now(), "test"
        )


async def test_an_operator_lists_and_lifts_locks_from_the_command_line(
    cli: Cli, engine: AsyncEngine, data_dir: Path
) -> None:
    await lock(engine, data_dir)
    listed = await cli("user", "lockouts")
    assert listed.code == 0
    assert "account:owner  failures=6" in listed.out
    assert "address:2001:db8:1:2::/64  failures=6" in listed.out
    lifted = await cli(
        "user", "unlock", "owner", "--actor", "maryam", "--reason", "identity checked by phone"
    )
    assert lifted.code == 0, lifted.err
    assert lifted.out.startswith("lifted account:owner  failures=6")
    by_address = await cli(
        "user", "unlock", "--address", "2001:db8:1:2::77", "--actor", "maryam", "--reason", "ok"
    )
    assert by_address.code == 0, by_address.err
    assert "no locks" in (await cli("user", "lockouts")).out
    async with engine.connect() as conn:
        events = await events_for(conn, OBJECT_TYPE, "account:owner")
    lifts = [e for e in events if e.action == "sign-in-throttle.lift"]
    assert [(e.actor, e.reason) for e in lifts] == [("cli:maryam", "identity checked by phone")]


async def test_unlocking_needs_exactly_one_key_that_is_locked(cli: Cli) -> None:
    nothing = await cli("user", "unlock", "owner", "--actor", "maryam", "--reason", "why")
    assert nothing.code == 2
    assert "not locked" in nothing.err
    both = await cli(
        "user", "unlock", "owner", "--address", "203.0.113.9", "--actor", "m", "--reason", "why"
    )
    assert both.code == 2
    assert "exactly one" in both.err
    bad = await cli("user", "unlock", "--national-code", "123", "--actor", "m", "--reason", "why")
    assert bad.code == 2


async def test_an_operator_resets_a_lost_phones_totp_from_the_command_line(
    cli: Cli, engine: AsyncEngine, data_dir: Path
) -> None:
    pepper = resolve_pepper(Settings(env=Environment.DEVELOPMENT, data_dir=data_dir))
    keys = TotpKeys(pepper)
    now = utc_now()
    async with engine.begin() as conn:
        user = await create_user(
            conn,
            Principal("test:setup", Role.OPERATOR),
            username="sara",
            display_name="Sara",
            role=Role.AUDITOR,
            agency=None,
            password="a long enough password",
            reason="fixture",
            now=now,
        )
        secret = await begin_enrolment(conn, user, keys, now)
        assert await confirm_enrolment(conn, user, keys, pyotp.TOTP(secret).now(), now)
    reset = await cli("user", "totp-reset", "sara", "--actor", "maryam", "--reason", "lost phone")
    assert reset.code == 0, reset.err
    async with engine.connect() as conn:
        assert not (await totp_status(conn, user.id)).enrolled
        events = await events_for(conn, "user", "sara")
    assert [(e.action, e.actor, e.reason) for e in events][-1] == (
        "user.totp-reset",
        "cli:maryam",
        "lost phone",
    )
    again = await cli("user", "totp-reset", "sara", "--actor", "maryam", "--reason", "again")
    assert again.code == 2
    assert "not on" in again.err
