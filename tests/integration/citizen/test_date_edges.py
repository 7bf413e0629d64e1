"""Dates at the ends of the calendar (issue 25): the citizen's API answers a 422 saying which
days it takes, the citizen's page says so in the page's language, and neither answers a 500.
Dates from 1900-01-01 to 2999-12-31 (Tehran days) are taken."""

from __future__ import annotations

import base64
import json

import pytest

from panjereh.audit.records import AuditRecord
from tests.integration.citizen.conftest import CitizenWorld

INQUIRIES = "/api/v1/me/inquiries"
EDGES = [
    ("since", "0001-01-01"),
    ("until", "9999-12-31"),
    ("since", "1899-12-31"),
    ("until", "3000-01-01"),
]


@pytest.mark.parametrize(("field", "value"), EDGES)
async def test_the_api_refuses_a_day_outside_the_range_saying_the_range(
    world: CitizenWorld, records: list[AuditRecord], field: str, value: str
) -> None:
    answer = await world.citizen.get(INQUIRIES, params={field: value})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert (body["field"], body["error"]) == (field, "citizen.period-range")
    assert "1900-01-01" in body["detail"]
    assert "2999-12-31" in body["detail"]
    assert "۱۲۷۸/۱۰/۱۱" in body["detail_fa"]
    assert await world.withholdings() == []


async def test_the_api_takes_the_first_and_last_days(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    answer = await world.citizen.get(
        INQUIRIES, params={"since": "1900-01-01", "until": "2999-12-31"}
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["inquiries"]) == 5


def _cursor(stamp: str) -> str:
    raw = json.dumps([stamp, "0190f3c2-4444-7000-8000-000000000001"]).encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@pytest.mark.parametrize(
    ("stamp", "found"), [("0001-01-01T00:00:00.000000Z", 0), ("9999-12-31T23:59:59.999999Z", 5)]
)
async def test_a_cursor_at_the_ends_of_the_calendar_pages_from_there(
    world: CitizenWorld, records: list[AuditRecord], stamp: str, found: int
) -> None:
    answer = await world.citizen.get(INQUIRIES, params={"cursor": _cursor(stamp)})
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["inquiries"]) == found


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/me/inquiries", {"to": "۹۳۷۷/۰۱/۰۱"}, "۱۲۷۸/۱۰/۱۱"),
        ("/me/inquiries", {"from": "۰۰۰۱/۰۱/۰۱"}, "۲۳۷۸/۱۰/۱۰"),
        ("/en/me/inquiries", {"to": "9999-12-31"}, "1900-01-01 to 2999-12-31"),
        ("/en/me/inquiries", {"from": "0001-01-01"}, "1900-01-01 to 2999-12-31"),
    ],
)
async def test_the_page_says_which_days_it_takes_in_its_language(
    world: CitizenWorld, records: list[AuditRecord], path: str, params: dict[str, str], message: str
) -> None:
    page = await world.citizen.get(path, params=params)
    assert page.status_code == 422, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in page.text
    assert message in page.text
    assert "Internal" not in page.text
