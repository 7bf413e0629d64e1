"""`panjereh registry ...` and `panjereh user ...` against SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.storage.events_repo import events_for
from panjereh.storage.registry_repo import load_snapshot
from tests.integration.cli.runner import Cli
from tests.unit.interchange.test_yaml_io import VALID

CHANGE = ["--actor", "maryam", "--reason", "onboarding"]


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "registry.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


async def test_import_then_export_round_trips(cli: Cli, tmp_path: Path) -> None:
    imported = await cli("registry", "import", _write(tmp_path, VALID), *CHANGE)
    assert imported.code == 0, imported.err
    assert "2 agency" in imported.out
    exported = await cli("registry", "export", "--output", str(tmp_path / "out.yaml"))
    assert exported.code == 0
    text = (tmp_path / "out.yaml").read_text(encoding="utf-8")
    again = await cli("registry", "import", _write(tmp_path, text), *CHANGE)
    assert again.out.strip() == "created nothing; updated nothing; 8 unchanged"
    assert (await cli("registry", "export")).out == text


async def test_a_bad_file_is_reported_by_line_and_changes_nothing(
    cli: Cli, tmp_path: Path, engine: AsyncEngine
) -> None:
    broken = VALID.replace("purposes: [benefit-eligibility]", "purposes: [spying]")
    result = await cli("registry", "import", _write(tmp_path, broken), *CHANGE)
    assert result.code == 2
    assert "line 37, grants[0].purposes[0]: no purpose 'spying'" in result.err
    assert "Traceback" not in result.err
    assert (await load_snapshot(engine)).services == {}


async def test_a_missing_file_is_one_clear_line(cli: Cli, tmp_path: Path) -> None:
    result = await cli("registry", "import", str(tmp_path / "nope.yaml"), *CHANGE)
    assert result.code == 2
    assert "cannot read" in result.err


async def test_dry_run_reports_and_keeps_nothing(
    cli: Cli, tmp_path: Path, engine: AsyncEngine
) -> None:
    result = await cli("registry", "import", "--dry-run", _write(tmp_path, VALID), *CHANGE)
    assert result.code == 0
    assert result.out.startswith("would create")
    assert (await load_snapshot(engine)).agencies == {}


async def test_changes_need_an_actor_and_a_reason(cli: Cli, tmp_path: Path) -> None:
    result = await cli("registry", "import", _write(tmp_path, VALID))
    assert result.code == 2
    assert "--actor" in result.err or "--reason" in result.err


async def test_list_searches_persian_text_normalized(cli: Cli, tmp_path: Path) -> None:
    await cli("registry", "import", _write(tmp_path, VALID), *CHANGE)
    # Arabic kaf and yeh in the query still find «سازمان ثبت احوال کشور»
    found = await cli("registry", "list", "agencies", "--search", "احوال كشور")
    assert found.code == 0
    assert "civil-registry" in found.out
    assert "social-security" not in found.out


async def test_revoke_suspend_and_grant_are_audited(
    cli: Cli, tmp_path: Path, engine: AsyncEngine
) -> None:
    await cli("registry", "import", _write(tmp_path, VALID), *CHANGE)
    revoked = await cli(
        "registry", "revoke", "social-security/benefits", "civil-registry.person.v1", *CHANGE
    )
    assert revoked.code == 0, revoked.err
    snapshot = await load_snapshot(engine)
    assert snapshot.grants == {}
    again = await cli(
        "registry",
        "grant",
        "social-security/benefits",
        "civil-registry.person.v1",
        "--purpose",
        "benefit-eligibility",
        "--field",
        "/first_name",
        *CHANGE,
    )
    assert again.code == 0, again.err
    grant = next(iter((await load_snapshot(engine)).grants.values()))
    assert grant.projection == ("/first_name",)
    suspended = await cli("registry", "suspend", "agency", "social-security", *CHANGE)
    assert suspended.code == 0
    snapshot = await load_snapshot(engine)
    assert not next(s for s in snapshot.systems.values() if s.code == "benefits").is_active
    async with engine.connect() as conn:
        history = await events_for(
            conn, "grant", "social-security/benefits -> civil-registry.person.v1"
        )
    assert [e.action for e in history] == ["grant.create", "grant.revoke", "grant.reactivate"]
    assert {e.actor for e in history[1:]} == {"cli:maryam"}


async def test_network_records_an_agencys_blocks_audited_and_refuses_a_public_block(
    cli: Cli, tmp_path: Path, engine: AsyncEngine
) -> None:
    await cli("registry", "import", _write(tmp_path, VALID), *CHANGE)
    done = await cli(
        "registry", "network", "civil-registry", "--block", "10.20.0.0/16", "--allow-http", *CHANGE
    )
    public = await cli("registry", "network", "civil-registry", "--block", "8.8.8.0/24", *CHANGE)

    assert done.code == 0, done.err
    assert done.out.strip() == "agency civil-registry: private blocks 10.20.0.0/16; http or https"
    assert public.code == 2
    assert "8.8.8.0/24 is not inside a private range" in public.err
    agency = next(
        a for a in (await load_snapshot(engine)).agencies.values() if a.code == "civil-registry"
    )
    assert [str(b) for b in agency.network.private_blocks] == ["10.20.0.0/16"]
    async with engine.connect() as conn:
        history = await events_for(conn, "agency", "civil-registry")
    assert [(e.action, e.actor, e.reason) for e in history][-1] == (
        "agency.network",
        "cli:maryam",
        "onboarding",
    )
    exported = (await cli("registry", "export")).out
    assert "    - 10.20.0.0/16\n    allow_http: true" in exported


async def test_rotate_key_prints_a_new_key_once(
    cli: Cli, tmp_path: Path, engine: AsyncEngine
) -> None:
    await cli("registry", "import", _write(tmp_path, VALID), *CHANGE)
    first = await cli(
        "registry", "rotate-key", "social-security/benefits", "--overlap", "1h", *CHANGE
    )
    assert first.code == 0, first.err
    key = first.out.strip().splitlines()[-1]
    assert key.startswith("pnj_")
    exported = (await cli("registry", "export")).out
    assert key not in exported
    bad = await cli(
        "registry", "rotate-key", "social-security/benefits", "--overlap", "soon", *CHANGE
    )
    assert bad.code == 2
    assert "duration" in bad.err


async def test_user_create_makes_an_operator_with_a_hashed_password(cli: Cli) -> None:
    made = await cli("user", "create", "sara", "--password", "correct horse battery", *CHANGE)
    assert made.code == 0, made.err
    token = await cli("user", "token", "sara")
    assert token.code == 0
    assert token.out.startswith("pnt_")
    weak = await cli("user", "create", "reza", "--password", "short", *CHANGE)
    assert weak.code == 2
    assert "12 characters" in weak.err
    duplicate = await cli("user", "create", "sara", "--password", "another long password", *CHANGE)
    assert duplicate.code == 2
    assert "taken" in duplicate.err
