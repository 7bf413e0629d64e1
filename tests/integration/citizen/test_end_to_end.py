"""From an inquiry through the exchange (a real socket, the audit writer) to the citizen's
own view of it."""

from __future__ import annotations

from tests.integration.citizen.conftest import dev_sign_in
from tests.integration.conftest import Live

PERSON = "/exchange/v1/services/civil-registry.person.v1"


async def test_the_citizen_sees_the_inquiry_an_agency_just_made(live: Live) -> None:
    asked = await live.client.post(
        PERSON,
        json={"national_code": live.citizen},
        headers={"Authorization": f"ApiKey {live.granted_key}", "X-Purpose": "benefit-eligibility"},
    )
    assert asked.status_code == 200
    assert (await dev_sign_in(live.client, live.citizen)).status_code == 303
    rows = (await live.client.get("/api/v1/me/inquiries")).json()["inquiries"]
    assert [
        (r["exchange_id"], r["agency"]["code"], r["system"]["code"], r["outcome"]) for r in rows
    ] == [
        (asked.headers["x-exchange-id"], "social-security", "benefits", "ok"),
    ]
    assert rows[0]["service"]["name_en"] == "Person identity inquiry"
    assert rows[0]["purpose"]["code"] == "benefit-eligibility"
