"""The operator area's cases and withholdings pages: who sees them, who closes a case, and
that closing is CSRF-checked and becomes a control-plane event."""

from __future__ import annotations

import httpx
import pytest

from panjereh.audit.records import AuditRecord
from panjereh.storage.events_repo import events_for
from tests.integration.citizen.conftest import CitizenWorld, exchange_id


@pytest.fixture
async def flagged(world: CitizenWorld, records: list[AuditRecord]) -> int:
    """Case 1 on record 2; the citizen's page was viewed once (records 4 and 5 withheld)."""
    response = await world.citizen.post(
        f"/api/v1/me/inquiries/{exchange_id(2)}/flag",
        json={"reason": "I never asked them"},
        headers={"X-CSRF-Token": world.csrf},
    )
    assert response.status_code == 201
    await world.citizen.get("/api/v1/me/inquiries")
    return int(response.json()["case"])


async def get(world: CitizenWorld, persona: str, path: str) -> httpx.Response:
    return await world.operators[persona].get(path)


async def close(world: CitizenWorld, persona: str, case_id: int, **form: str) -> httpx.Response:
    data = {"csrf": world.operator_csrf[persona], "reason": "a lawful check"} | form
    return await world.operators[persona].post(f"/operator/cases/{case_id}/close", data=data)


async def test_auditors_and_operators_see_cases_and_withholdings_agency_admins_do_not(
    world: CitizenWorld, flagged: int
) -> None:
    paths = ["/operator/cases", f"/operator/cases/{flagged}", "/operator/withholdings"]
    paths += ["/en" + p for p in paths]
    for persona, status in (("owner", 403), ("consumer", 403), ("auditor", 200), ("operator", 200)):
        for path in paths:
            assert (await get(world, persona, path)).status_code == status, (persona, path)
    nobody = await world.client().get("/operator/cases")
    assert nobody.status_code == 303  # to the sign-in
    assert 'href="/operator/cases"' in (await get(world, "auditor", "/operator/")).text
    assert 'href="/operator/cases"' not in (await get(world, "owner", "/operator/")).text


async def test_the_case_page_shows_the_record_but_no_national_code(
    world: CitizenWorld, flagged: int
) -> None:
    html = (await get(world, "auditor", f"/operator/cases/{flagged}")).text
    assert "I never asked them" in html
    assert exchange_id(2) in html
    assert "social-security/benefits" in html
    assert "سازمان تأمین اجتماعی" in html
    assert "بررسی استحقاق مزایا · <code" in html  # the purpose by its registered name
    english = (await get(world, "auditor", f"/en/operator/cases/{flagged}")).text
    assert "Benefit eligibility · <code" in english
    assert world.hash in html  # the keyed hash stands for the citizen
    assert "0013542419" not in html
    assert "بستن پرونده" not in html  # an auditor may not close it
    assert "بستن پرونده" in (await get(world, "operator", f"/operator/cases/{flagged}")).text
    listing = (await get(world, "auditor", "/en/operator/cases?status=open")).text
    assert f'href="/en/operator/cases/{flagged}"' in listing
    assert "Found: 1 · Open: 1" in listing
    assert (await get(world, "auditor", "/operator/cases/999")).status_code == 404
    assert (await get(world, "auditor", "/operator/cases/x1")).status_code == 404


async def test_only_an_operator_closes_a_case_with_a_note_and_the_token(
    world: CitizenWorld, flagged: int
) -> None:
    assert (await close(world, "auditor", flagged)).status_code == 403
    assert (await close(world, "operator", flagged, csrf="wrong")).status_code == 403
    assert (await close(world, "operator", flagged, reason="x")).status_code == 422
    async with world.engine.connect() as conn:
        assert [e.action for e in await events_for(conn, "audit-case", str(flagged))] == [
            "audit-case.open"
        ]
    done = await close(world, "operator", flagged)
    assert done.status_code == 303
    assert done.headers["location"] == f"/operator/cases/{flagged}?done=case.close"
    page = (await world.operators["operator"].get(done.headers["location"])).text
    assert "پرونده بسته شد." in page
    assert "a lawful check" in page
    assert "user:operator" in page
    assert (await close(world, "operator", flagged)).status_code == 409
    async with world.engine.connect() as conn:
        events = await events_for(conn, "audit-case", str(flagged))
    assert [(e.action, e.actor, e.reason) for e in events] == [
        ("audit-case.open", f"citizen:{world.hash[:16]}", "I never asked them"),
        ("audit-case.close", "user:operator", "a lawful check"),
    ]
    reported = (await world.citizen.get("/api/v1/me/inquiries")).json()["inquiries"]
    assert [r["reported"] for r in reported] == [False] * 5  # closed: reportable again


async def test_the_withholdings_page_lists_each_withheld_record_with_its_disclosure_date(
    world: CitizenWorld, flagged: int
) -> None:
    html = (await get(world, "auditor", "/operator/withholdings")).text
    assert html.index(exchange_id(5)) < html.index(exchange_id(4))
    assert html.count("۱۴۰۶/۰۱/۰۱") == 2  # 2027-03-21, in Jalali
    assert "وزارت علوم، تحقیقات و فناوری" in html
    english = (await get(world, "auditor", "/en/operator/withholdings?agency=social-security")).text
    assert "No withholding recorded." in english


async def test_the_withholdings_page_shows_a_record_once_with_how_often_it_was_withheld(
    world: CitizenWorld, flagged: int
) -> None:
    for _ in range(3):  # the citizen opens their page three more times: four views in all
        assert (await world.citizen.get("/api/v1/me/inquiries")).status_code == 200
    assert len(await world.withholdings()) == 8  # the log keeps one row per view and record
    html = (await get(world, "auditor", "/operator/withholdings")).text
    for n in (4, 5):
        assert html.count(f">{exchange_id(n)}<") == 1, n
    assert html.count('<td class="op-n">۴</td>') == 2  # withheld four times each
    english = (await get(world, "auditor", "/en/operator/withholdings")).text
    assert english.count(f">{exchange_id(5)}<") == 1
    assert "Times withheld" in english
    one = (await get(world, "auditor", f"/operator/withholdings?exchange_id={exchange_id(4)}")).text
    assert one.count(">" + exchange_id(4) + "<") == 1
    assert exchange_id(5) not in one
