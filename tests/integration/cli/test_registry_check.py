"""Stored values that today's rules refuse (a legal ID with digits 4-9 all zero, stored before
that rule): nothing fails to load or is dropped; `panjereh registry check` names them, and an
import of a document holding one names its line (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.storage.document_repo import export_document
from panjereh.storage.registry_repo import load_snapshot
from panjereh.storage.tables import agencies
from tests.integration.cli.runner import Cli
from tests.unit.interchange.test_yaml_io import VALID

CHANGE = ["--actor", "maryam", "--reason", "onboarding"]
LEGACY = "14000000003"  # passes the checksum; digits 4-9 all zero


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


async def _store_legacy_legal_id(engine: AsyncEngine) -> None:
    """What an earlier version let in: written straight to the table."""
    async with engine.begin() as conn:
        await conn.execute(
            update(agencies).where(agencies.c.code == "civil-registry").values(legal_id=LEGACY)
        )


async def test_a_clean_registry_has_no_problems(cli: Cli, tmp_path: Path) -> None:
    assert (await cli("registry", "import", _write(tmp_path, "r.yaml", VALID), *CHANGE)).code == 0
    result = await cli("registry", "check")
    assert result.code == 0, result.err
    assert result.out.strip() == "no problems: 2 agencies, 2 systems, 1 services, 1 grants checked"


async def test_a_stored_legal_id_refused_today_is_read_listed_and_kept(
    cli: Cli, tmp_path: Path, engine: AsyncEngine
) -> None:
    assert (await cli("registry", "import", _write(tmp_path, "r.yaml", VALID), *CHANGE)).code == 0
    await _store_legacy_legal_id(engine)

    # Reading never re-validates and fails: the export, the lists and the snapshot have it.
    async with engine.connect() as conn:
        document = await export_document(conn)
    assert [a.legal_id for a in document.agencies if a.code == "civil-registry"] == [LEGACY]
    snapshot = await load_snapshot(engine)
    assert LEGACY in {a.legal_id for a in snapshot.agencies.values()}
    listed = await cli("registry", "list", "agencies", "--json")
    assert listed.code == 0
    assert LEGACY in listed.out

    checked = await cli("registry", "check")
    assert checked.code == 1
    assert checked.out.splitlines() == [
        "agencies[0].legal_id (civil-registry): "
        "A legal-entity ID's digits 4 to 9 cannot all be zero."
    ]
    assert "1 problem" in checked.err

    # Importing the export refuses it by line, and changes nothing.
    exported = await cli("registry", "export")
    path = _write(tmp_path, "again.yaml", exported.out)
    again = await cli("registry", "import", path, *CHANGE)
    assert again.code == 2
    line = exported.out.splitlines().index(f"  legal_id: '{LEGACY}'") + 1
    assert (
        f"line {line}, agencies[0].legal_id: A legal-entity ID's digits 4 to 9 cannot all be zero."
        in again.err
    )
    async with engine.connect() as conn:
        assert await export_document(conn) == document


async def test_an_agency_with_a_stored_legacy_legal_id_can_still_be_suspended(
    cli: Cli, tmp_path: Path, engine: AsyncEngine
) -> None:
    assert (await cli("registry", "import", _write(tmp_path, "r.yaml", VALID), *CHANGE)).code == 0
    await _store_legacy_legal_id(engine)
    result = await cli("registry", "suspend", "agency", "civil-registry", *CHANGE)
    assert result.code == 0, result.err
    async with engine.connect() as conn:
        document = await export_document(conn)
    agency = next(a for a in document.agencies if a.code == "civil-registry")
    assert (agency.status.value, agency.legal_id) == ("suspended", LEGACY)
