"""GET /api/v1/me/inquiries, POST .../flag, GET /api/v1/me/session and
GET /api/v1/audit/withholdings: the answers, the stored state and the events."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import httpx
from sqlalchemy import func, select

from panjereh.audit.records import AuditRecord
from panjereh.storage.events_repo import events_for
from panjereh.storage.tables import audit_cases, audit_withholdings
from tests.integration.citizen.conftest import (
    CITIZEN,
    DISCLOSURE,
    NOW,
    SECRET,
    CitizenWorld,
    exchange_id,
    record,
)

INQUIRIES = "/api/v1/me/inquiries"
GRANT_ID = 3  # the confidential grant's id in the fixture's registry


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["exchange_id"] for row in response.json()["inquiries"]]


async def count(world: CitizenWorld, table: object) -> int:
    async with world.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


async def test_a_citizen_sees_their_inquiries_newest_first_with_names(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    response = await world.citizen.get(INQUIRIES)
    assert ids(response) == [exchange_id(n) for n in (1, 2, 3, 6, 7)]
    body = response.json()
    assert body["next_cursor"] is None
    assert body["inquiries"][0] == {
        "exchange_id": exchange_id(1),
        "time": "2026-12-02T08:59:00.000000Z",
        "time_tehran": "2026-12-02T12:29:00+03:30",
        "time_jalali": "1405/09/11 12:29",
        "agency": {
            "code": "social-security",
            "name_fa": "سازمان تأمین اجتماعی",
            "name_en": "Social Security Organization",
        },
        "system": {"code": "benefits", "name": "Benefits"},
        "service": {
            "id": "civil-registry.person.v1",
            "name_fa": "استعلام فرد",
            "name_en": "Person inquiry",
        },
        "purpose": {
            "code": "benefit-eligibility",
            "name_fa": "بررسی استحقاق مزایا",
            "name_en": "Benefit eligibility",
            "registered": True,
        },
        "outcome": "ok",
        "reported": False,
    }
    denied = body["inquiries"][4]
    assert (denied["agency"], denied["system"], denied["outcome"]) == (None, None, "denied")
    assert body["inquiries"][3]["purpose"] == {  # declared, but nobody registered it
        "code": None,
        "name_fa": "هدف نامعتبر",
        "name_en": "Invalid purpose",
        "registered": False,
    }
    assert "unknown-purpose" not in response.text
    assert CITIZEN not in response.text
    assert world.hash not in response.text
    assert response.headers["cache-control"] == "no-store"


async def test_withheld_records_are_recorded_once_per_view(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    await world.citizen.get(INQUIRIES)
    await world.citizen.get(INQUIRIES)
    expected = [(exchange_id(n), world.hash, GRANT_ID, DISCLOSURE) for n in (4, 5)]
    assert await world.withholdings() == expected * 2


async def test_from_the_disclosure_day_the_records_appear_and_nothing_is_withheld(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    world.clock.set(datetime(2027, 3, 20, 20, 30, tzinfo=NOW.tzinfo))  # 1406/01/01 00:00 Tehran
    # the session has expired by then: sign in again
    from tests.integration.citizen.conftest import dev_sign_in

    assert (await dev_sign_in(world.citizen, CITIZEN)).status_code == 303
    assert ids(await world.citizen.get(INQUIRIES)) == [exchange_id(n) for n in range(1, 8)]
    assert await world.withholdings() == []


async def test_pages_follow_each_other_without_gaps_or_repeats(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    first = await world.citizen.get(INQUIRIES, params={"limit": 2})
    assert ids(first) == [exchange_id(1), exchange_id(2)]
    second = await world.citizen.get(
        INQUIRIES, params={"limit": 2, "cursor": first.json()["next_cursor"]}
    )
    assert ids(second) == [exchange_id(3), exchange_id(6)]  # 4 and 5 withheld in between
    third = await world.citizen.get(
        INQUIRIES, params={"limit": 2, "cursor": second.json()["next_cursor"]}
    )
    assert ids(third) == [exchange_id(7)]
    assert third.json()["next_cursor"] is None
    # each withheld record was recorded once, by the page it was read for
    assert [w[0] for w in await world.withholdings()] == [exchange_id(4), exchange_id(5)]


async def test_a_page_crowded_by_withheld_records_still_fills_up(
    world: CitizenWorld,
) -> None:
    made = [record(n, world.hash, consumer=SECRET) for n in range(1, 8)]
    made += [record(n, world.hash) for n in range(8, 11)]
    await world.write(made)
    page = await world.citizen.get(INQUIRIES, params={"limit": 2})
    assert ids(page) == [exchange_id(8), exchange_id(9)]
    assert len(await world.withholdings()) == 7


async def test_filters_by_agency_and_period(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    social = await world.citizen.get(INQUIRIES, params={"agency": "social-security"})
    assert ids(social) == [exchange_id(n) for n in (1, 2, 3, 6)]
    # the confidential consumer's agency: nothing, exactly as for an agency that never asked
    secret = await world.citizen.get(INQUIRIES, params={"agency": "science-ministry"})
    never = await world.citizen.get(INQUIRIES, params={"agency": "welfare-organization"})
    assert secret.json() == never.json() == {"inquiries": [], "next_cursor": None}
    today = {"since": "2026-12-02", "until": "2026-12-02"}
    assert ids(await world.citizen.get(INQUIRIES, params=today)) == ids(
        await world.citizen.get(INQUIRIES)
    )
    tomorrow = {"since": "2026-12-03"}
    assert ids(await world.citizen.get(INQUIRIES, params=tomorrow)) == []


async def test_bad_queries_are_refused_with_clear_problems(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    cases = [
        ({"agency": "no-such-agency"}, "citizen.agency"),
        ({"cursor": "not-a-cursor"}, "citizen.cursor"),
        ({"since": "2026-12-03", "until": "2026-12-02"}, "citizen.period"),
    ]
    for params, code in cases:
        response = await world.citizen.get(INQUIRIES, params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["error"] == code
    for invalid in ({"limit": "0"}, {"limit": "201"}, {"since": "1405/09/11"}):
        response = await world.citizen.get(INQUIRIES, params=invalid)
        assert response.status_code == 422, invalid
        assert response.json()["code"] == "invalid-request"
    assert await world.withholdings() == []


async def test_without_a_citizen_session_the_api_answers_401(world: CitizenWorld) -> None:
    nobody = world.client()
    for path in (INQUIRIES, "/api/v1/me/session"):
        response = await nobody.get(path)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
    forged = world.client(**{"panjereh-citizen": "forged"})
    assert (await forged.get(INQUIRIES)).status_code == 401
    operator = await nobody.get(INQUIRIES, headers=world.bearer("operator"))
    assert operator.status_code == 401  # a bearer token is not a citizen


async def test_the_session_expires_after_an_hour(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    world.clock.advance(timedelta(minutes=59).total_seconds())
    assert (await world.citizen.get(INQUIRIES)).status_code == 200
    world.clock.advance(timedelta(minutes=1).total_seconds())
    assert (await world.citizen.get(INQUIRIES)).status_code == 401


async def flag(
    world: CitizenWorld,
    n: int,
    *,
    headers: dict[str, str] | None = None,
    reason: str = "I never asked",
) -> httpx.Response:
    sent = {"X-CSRF-Token": world.csrf} if headers is None else headers
    return await world.citizen.post(
        f"{INQUIRIES}/{exchange_id(n)}/flag", json={"reason": reason}, headers=sent
    )


async def test_flagging_an_own_record_opens_one_case_and_its_event(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    session = (await world.citizen.get("/api/v1/me/session")).json()
    assert session["csrf_token"] == world.csrf
    response = await flag(world, 2)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "open"
    assert body["exchange_id"] == exchange_id(2)
    async with world.engine.connect() as conn:
        row = (await conn.execute(select(audit_cases))).mappings().one()
        events = await events_for(conn, "audit-case", str(body["case"]))
    assert (row["exchange_id"], row["subject_hash"], row["reason"], row["status"]) == (
        exchange_id(2),
        world.hash,
        "I never asked",
        "open",
    )
    assert [(e.action, e.actor) for e in events] == [
        ("audit-case.open", f"citizen:{world.hash[:16]}")
    ]
    again = await flag(world, 2)
    assert again.status_code == 409
    listed = (await world.citizen.get(INQUIRIES)).json()["inquiries"]
    assert [r["reported"] for r in listed] == [False, True, False, False, False]
    assert await count(world, audit_cases) == 1


async def test_a_citizen_cannot_flag_what_is_not_theirs_or_is_withheld(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    for n in (8, 9, 4, 99):  # someone else's, someone else's withheld, own withheld, none
        response = await flag(world, n)
        assert response.status_code == 404, n
        assert response.json()["code"] == "not-found"
    assert await count(world, audit_cases) == 0
    assert await world.withholdings() == [(exchange_id(4), world.hash, GRANT_ID, DISCLOSURE)]


async def test_a_flag_needs_the_csrf_token_and_the_same_origin(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    refused = [
        {},
        {"X-CSRF-Token": "wrong"},
        {"X-CSRF-Token": world.csrf, "Origin": "https://evil.example"},
        {"X-CSRF-Token": world.csrf, "Sec-Fetch-Site": "cross-site"},
    ]
    for headers in refused:
        response = await flag(world, 1, headers=headers)
        assert response.status_code == 403, headers
        assert response.headers["content-type"] == "application/problem+json"
    same = {
        "X-CSRF-Token": world.csrf,
        "Origin": "http://panjereh.test",
        "Sec-Fetch-Site": "same-origin",
    }
    short = await flag(world, 1, headers=same, reason="no")
    assert short.status_code == 422
    assert await count(world, audit_cases) == 0
    assert (await flag(world, 1, headers=same)).status_code == 201
    unauthenticated = await world.client().post(
        f"{INQUIRIES}/{exchange_id(1)}/flag", json={"reason": "I never asked"}
    )
    assert unauthenticated.status_code == 401


async def test_withholdings_are_for_auditors_and_operators(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    await world.citizen.get(INQUIRIES)
    client = world.client()
    path = "/api/v1/audit/withholdings"
    assert (await client.get(path)).status_code == 401
    for persona in ("owner", "consumer", "stranger"):
        refused = await client.get(path, headers=world.bearer(persona))
        assert refused.status_code == 403, persona
    for persona in ("auditor", "operator"):
        found = await client.get(path, headers=world.bearer(persona))
        assert found.status_code == 200
        rows = found.json()["withholdings"]
        assert [(r["exchange_id"], r["grant_id"], r["disclosure_date"]) for r in rows] == [
            (exchange_id(5), GRANT_ID, "2027-03-21"),
            (exchange_id(4), GRANT_ID, "2027-03-21"),
        ]
        assert rows[0]["subject_hash"] == world.hash
        assert rows[0]["consumer"] == SECRET
    auth = world.bearer("auditor")
    one = await client.get(path, params={"limit": 1}, headers=auth)
    assert [r["exchange_id"] for r in one.json()["withholdings"]] == [exchange_id(5)]
    rest = await client.get(path, params={"cursor": one.json()["next_cursor"]}, headers=auth)
    assert [r["exchange_id"] for r in rest.json()["withholdings"]] == [exchange_id(4)]
    assert rest.json()["next_cursor"] is None
    other = await client.get(path, params={"agency": "social-security"}, headers=auth)
    assert other.json()["withholdings"] == []
    one_record = await client.get(path, params={"exchange_id": exchange_id(4)}, headers=auth)
    assert [r["exchange_id"] for r in one_record.json()["withholdings"]] == [exchange_id(4)]
    later = await client.get(path, params={"since": date(2026, 12, 3).isoformat()}, headers=auth)
    assert later.json()["withholdings"] == []
    assert (await client.get(path, params={"cursor": "x"}, headers=auth)).status_code == 422
    assert await count(world, audit_withholdings) == 2


async def test_a_page_is_never_short_because_of_withheld_records(world: CitizenWorld) -> None:
    await world.write([record(n, world.hash, consumer=SECRET) for n in range(1, 13)])
    await world.write([record(13, world.hash), record(14, world.hash)])
    first = await world.citizen.get(INQUIRIES, params={"limit": 1})
    assert ids(first) == [exchange_id(13)]  # twelve newer withheld records skipped in SQL
    assert [w[0] for w in await world.withholdings()] == [exchange_id(n) for n in range(1, 13)]
    second = await world.citizen.get(
        INQUIRIES, params={"limit": 1, "cursor": first.json()["next_cursor"]}
    )
    assert ids(second) == [exchange_id(14)]
    assert second.json()["next_cursor"] is None
    assert len(await world.withholdings()) == 12  # nothing withheld in the second page's span
