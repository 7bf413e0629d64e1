"""Nobody writes text onto a citizen's page: the citizen sees a declared purpose only by its
registered name (Persian on the Persian page, English on the English one), and an
unregistered one as «هدف نامعتبر» / "Invalid purpose", never its text. The record keeps what
was declared (it is chained), and operators and auditors still see it.

End to end: an inquiry through the exchange on a real socket, the audit writer, the citizen's
API and pages (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from panjereh.storage.tables import audit_records
from tests.integration.citizen.conftest import dev_sign_in
from tests.integration.conftest import Live

PERSON = "/exchange/v1/services/civil-registry.person.v1"
PHISHING = "Your account is frozen - call 021-8888-0000"
INVALID_FA = "هدف نامعتبر"
INVALID_EN = "Invalid purpose"


async def _ask(live: Live, key: str, purpose: str) -> str:
    answer = await live.client.post(
        PERSON,
        json={"national_code": live.citizen},
        headers={"Authorization": f"ApiKey {key}", "X-Purpose": purpose},
    )
    return answer.headers["x-exchange-id"]


async def _stored_purpose(live: Live, exchange_id: str) -> str | None:
    r = audit_records.c
    async with live.engine.connect() as conn:
        found = await conn.scalar(select(r.purpose).where(r.exchange_id == exchange_id))
    return None if found is None else str(found)


async def test_a_grantless_systems_text_never_reaches_the_citizen_but_registered_names_do(
    live: Live,
) -> None:
    """Both cases on one platform (a live platform is the expensive part)."""
    refused = await _ask(live, live.stranger_key, PHISHING)
    assert await _stored_purpose(live, refused) == PHISHING  # the record is unchanged
    answered = await _ask(live, live.granted_key, "benefit-eligibility")

    assert (await dev_sign_in(live.client, live.citizen)).status_code == 303
    api = await live.client.get("/api/v1/me/inquiries")
    assert api.status_code == 200
    rows = {r["exchange_id"]: r for r in api.json()["inquiries"]}
    assert set(rows) == {refused, answered}
    row = rows[refused]
    assert row["outcome"] == "denied"
    assert row["purpose"] == {
        "code": None,
        "name_fa": INVALID_FA,
        "name_en": INVALID_EN,
        "registered": False,
    }
    assert rows[answered]["purpose"] == {
        "code": "benefit-eligibility",
        "name_fa": "تعیین استحقاق مزایا و حمایت‌ها",
        "name_en": "Benefit eligibility",
        "registered": True,
    }
    persian = await live.client.get("/me/inquiries")
    english = await live.client.get("/en/me/inquiries")
    assert INVALID_FA in persian.text
    assert INVALID_EN in english.text
    assert "تعیین استحقاق مزایا و حمایت‌ها" in persian.text
    assert "Benefit eligibility" in english.text
    for answer in (api, persian, english):
        assert answer.status_code == 200
        assert "frozen" not in answer.text
        assert "021-8888" not in answer.text
