"""Inquiries the exchange refuses still name their subject (its keyed hash), so the citizen
sees every attempt to look at their data: through the exchange on a real socket, the audit
writer, to the citizen's API and pages (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from panjereh.audit.records import Outcome
from panjereh.domain.identifiers import national_code_check_digit
from panjereh.domain.text import persian_digits
from panjereh.storage.tables import audit_records
from tests.integration.citizen.conftest import dev_sign_in
from tests.integration.conftest import Live

PERSON = "/exchange/v1/services/civil-registry.person.v1"
SERVICE = "civil-registry.person.v1"
OTHER = "123456789" + national_code_check_digit("123456789")


async def _ask(live: Live, key: str, body: dict[str, object], purpose: str) -> str:
    answer = await live.client.post(
        PERSON, json=body, headers={"Authorization": f"ApiKey {key}", "X-Purpose": purpose}
    )
    assert answer.status_code in (400, 403), answer.text
    return answer.headers["x-exchange-id"]


async def _stored(live: Live, exchange_id: str) -> tuple[str | None, str, str | None]:
    r = audit_records.c
    async with live.engine.connect() as conn:
        row = (
            await conn.execute(
                select(r.subject_hash, r.outcome, r.error_type).where(r.exchange_id == exchange_id)
            )
        ).one()
    return row.subject_hash, row.outcome, row.error_type


def _expected(live: Live, exchange_id: str, created: datetime, consumer: str) -> dict[str, Any]:
    snapshot = live.app.runtime.registry.current
    system = snapshot.systems_by_ident[consumer]
    service = snapshot.services[SERVICE]
    return {
        "exchange_id": exchange_id,
        "time": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "agency": {
            "code": system.agency.code,
            "name_fa": system.agency.name_fa,
            "name_en": system.agency.name_en,
        },
        "system": {"code": consumer.split("/")[1], "name": system.name},
        "service": {"id": SERVICE, "name_fa": service.name_fa, "name_en": service.name_en},
        "outcome": "denied",
        "reported": False,
    }


async def test_a_refusal_for_lack_of_a_grant_shows_on_the_citizens_page_as_refused(
    live: Live,
) -> None:
    citizen = live.citizen
    # The stranger holds no grant; the code comes in Persian digits and is normalized.
    refused = await _ask(
        live, live.stranger_key, {"national_code": persian_digits(citizen)}, "benefit-eligibility"
    )
    subject_hash, outcome, error = await _stored(live, refused)
    assert subject_hash == live.app.runtime.subject_keys.hash(citizen)
    assert (outcome, error) == (Outcome.DENIED.value, "access-denied")
    # Someone else's refused inquiry and one with an invalid code name other people / nobody.
    other = await _ask(live, live.stranger_key, {"national_code": OTHER}, "benefit-eligibility")
    broken = await _ask(
        live, live.stranger_key, {"national_code": citizen[:9] + "x"}, "benefit-eligibility"
    )
    assert (await _stored(live, other))[0] == live.app.runtime.subject_keys.hash(OTHER)
    assert (await _stored(live, broken))[0] is None

    assert (await dev_sign_in(live.client, citizen)).status_code == 303
    answer = await live.client.get("/api/v1/me/inquiries")
    assert answer.status_code == 200
    rows = answer.json()["inquiries"]
    async with live.engine.connect() as conn:
        created = (
            await conn.execute(
                select(audit_records.c.created_at).where(audit_records.c.exchange_id == refused)
            )
        ).scalar_one()
    assert len(rows) == 1
    row = rows[0]
    assert {k: v for k, v in row.items() if k not in ("time_tehran", "time_jalali", "purpose")} == (
        _expected(live, refused, created.astimezone(UTC), "science-ministry/degrees")
    )
    assert row["purpose"]["code"] == "benefit-eligibility"
    assert "national_code" not in answer.text
    assert citizen not in answer.text
    assert subject_hash not in answer.text

    persian = await live.client.get("/me/inquiries")
    english = await live.client.get("/en/me/inquiries")
    assert (persian.status_code, english.status_code) == (200, 200)
    assert "رد شد" in persian.text
    assert "Refused" in english.text


async def test_a_purpose_not_granted_and_a_body_the_schema_refuses_also_name_the_subject(
    live: Live,
) -> None:
    citizen = live.citizen
    purpose = await _ask(live, live.granted_key, {"national_code": citizen}, "curiosity")
    schema = await _ask(
        live, live.granted_key, {"national_code": citizen, "extra": 1}, "benefit-eligibility"
    )
    expected_hash = live.app.runtime.subject_keys.hash(citizen)
    assert await _stored(live, purpose) == (expected_hash, "denied", "access-denied")
    assert await _stored(live, schema) == (expected_hash, "invalid", "invalid-request")
    assert (await dev_sign_in(live.client, citizen)).status_code == 303
    rows = (await live.client.get("/api/v1/me/inquiries")).json()["inquiries"]
    assert [(r["exchange_id"], r["system"]["code"], r["outcome"]) for r in rows] == [
        (schema, "benefits", "invalid"),
        (purpose, "benefits", "denied"),
    ]
    english = await live.client.get("/en/me/inquiries")
    assert "Invalid request" in english.text
    assert "Refused" in english.text
