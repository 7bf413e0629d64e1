"""The agency list shows what is suspended (issue 26): a suspended agency, and an agency
whose system is suspended, do not look active."""

from __future__ import annotations

import re

from tests.integration.operator.conftest import OWNER_SYSTEM, OperatorArea


def row_of(html: str, code: str) -> str:
    """The agency list's row of ``code``."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        if f'/agencies/{code}"' in row:
            return str(row)
    raise AssertionError(f"no row for {code}")


async def suspend(area: OperatorArea, path: str) -> None:
    answer = await area.post("operator", f"/operator{path}/suspend", {"reason": "a leaked key"})
    assert answer.status_code == 303, answer.text


async def test_the_agency_list_shows_a_suspended_agency_and_a_suspended_system(
    area: OperatorArea,
) -> None:
    before = await area.get("auditor", "/operator/agencies")
    assert "op-status-suspended" not in before.text
    await suspend(area, "/agencies/science-ministry")
    await suspend(area, f"/systems/{OWNER_SYSTEM}")
    for persona in ("auditor", "owner"):  # who may see civil-registry's systems
        fa = await area.get(persona, "/operator/agencies")
        science = row_of(fa.text, "science-ministry")
        assert 'op-status-suspended">معلق</span>' in science
        assert "op-status-active" not in science
        civil = row_of(fa.text, "civil-registry")
        assert 'op-status-active">فعال</span>' in civil  # the agency itself
        assert "population-registry" in civil
        assert 'op-status-suspended">معلق</span>' in civil  # one of its systems
        en = await area.get(persona, "/en/operator/agencies")
        assert 'op-status-suspended">Suspended</span>' in row_of(en.text, "civil-registry")
        assert "op-status-suspended" not in row_of(fa.text, "social-security")


async def test_a_stranger_sees_a_suspended_agency_but_not_another_agencys_systems(
    area: OperatorArea,
) -> None:
    await suspend(area, "/agencies/science-ministry")
    await suspend(area, f"/systems/{OWNER_SYSTEM}")
    html = (await area.get("stranger", "/operator/agencies")).text
    assert 'op-status-suspended">معلق</span>' in row_of(html, "science-ministry")  # its own
    assert "degrees" in row_of(html, "science-ministry")
    civil = row_of(html, "civil-registry")
    assert "population-registry" not in civil  # private to civil-registry
    assert "op-status-suspended" not in civil
