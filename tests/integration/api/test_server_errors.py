"""Input that used to answer a bare "Internal Server Error" (issue 25) gets a clear 4xx problem
in the API's envelope: bad signing keys, integers past what the database stores, and dates at
the ends of the calendar.  Each case is asked with the persona who may make the request, so
only the input is wrong."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from panjereh.domain.identifiers import national_code_check_digit
from panjereh.storage.events_repo import events_for
from panjereh.storage.tables import BIGINT_MAX, INTEGER_MAX
from tests.integration.api.conftest import Api

SYSTEM = "/api/v1/systems/civil-registry/population-registry"
KEY = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
BIG = "9223372036854775808"  # 2**63: one past the largest integer a database column holds
HUGE = "99999999999999999999"
CODE = "001354241" + national_code_check_digit("001354241")


def _problem(answer: Any, status: int = 422) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    return body


# Signing keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_id", "public_key", "field"),
    [
        ("2026-12", "abc", "public_key"),
        ("2026-12", "not base64 at all!", "public_key"),
        ("2026-12", KEY + "AAAA", "public_key"),
        ("", KEY, "key_id"),
        ("k" * 65, KEY, "key_id"),
        ("bad id/%", KEY, "key_id"),
    ],
)
async def test_a_bad_signing_key_is_refused_naming_its_field_and_nothing_is_stored(
    api: Api, key_id: str, public_key: str, field: str
) -> None:
    answer = await api.client.post(
        f"{SYSTEM}/signing-keys",
        json={"key_id": key_id, "public_key": public_key, "reason": "a new signing key"},
        headers=api.auth("owner"),
    )
    body = _problem(answer)
    assert body["code"] == "invalid-request"
    assert [e["field"] for e in body["errors"]] == [field]
    system = await api.client.get(SYSTEM, headers=api.auth("owner"))
    assert system.json()["signing_keys"] == []
    async with api.app.runtime.engine.connect() as conn:
        events = await events_for(conn, "system", "civil-registry/population-registry")
    assert "signing-key.add" not in [e.action for e in events]


async def test_a_good_signing_key_is_still_taken(api: Api) -> None:
    answer = await api.client.post(
        f"{SYSTEM}/signing-keys",
        json={"key_id": "2026-12", "public_key": KEY, "reason": "a new signing key"},
        headers=api.auth("owner"),
    )
    assert answer.status_code == 201, answer.text
    assert [k["key_id"] for k in answer.json()["signing_keys"]] == ["2026-12"]


# Integers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "persona", "field", "bound"),
    [
        ("/api/v1/audit/checkpoints", {"after": BIG}, "nobody", "after", BIGINT_MAX),
        ("/api/v1/services", {"offset": BIG}, "auditor", "offset", BIGINT_MAX),
        ("/api/v1/audit/withholdings", {"cursor": HUGE}, "auditor", "cursor", BIGINT_MAX),
        ("/api/v1/audit/withholdings", {"cursor": BIG}, "auditor", "cursor", BIGINT_MAX),
        # A grant's id is a 32-bit column (PostgreSQL's integer).
        ("/api/v1/audit/withholdings", {"grant": BIG}, "auditor", "grant", INTEGER_MAX),
        ("/api/v1/audit/withholdings", {"grant": "2147483648"}, "auditor", "grant", INTEGER_MAX),
        ("/api/v1/audit/withholdings", {"grant": "-" + BIG + "0"}, "auditor", "grant", 1),
    ],
)
async def test_an_integer_past_what_the_database_holds_is_refused(
    api: Api, path: str, params: dict[str, str], persona: str, field: str, bound: int
) -> None:
    answer = await api.client.get(path, params=params, headers=api.auth(persona))
    body = _problem(answer)
    assert body["code"] == "invalid-request"
    assert [e["field"] for e in body["errors"]] == [field]
    assert str(bound) in body["detail"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/audit/checkpoints", {"after": "9223372036854775807"}),
        ("/api/v1/services", {"offset": "9223372036854775807"}),
        ("/api/v1/audit/withholdings", {"cursor": "9223372036854775807"}),
        ("/api/v1/audit/withholdings", {"grant": "2147483647"}),
    ],
)
async def test_the_largest_integer_the_database_holds_is_answered_with_nothing(
    api: Api, path: str, params: dict[str, str]
) -> None:
    answer = await api.client.get(path, params=params, headers=api.auth("auditor"))
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["withholdings"] if isinstance(found, dict) else found) == []


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/api/v1/audit/events", _cursor("e1|9999999999999999999")),
        ("/api/v1/audit/records", _cursor(f"r1|2026-12-02T08:00:00+00:00|{BIG}")),
        ("/api/v1/audit/records", _cursor(f"r1|2026-12-02T08:00:00+00:00|-{BIG}0")),
        ("/api/v1/audit/records", _cursor("r1|0001-01-01T00:00:00+14:00|1")),
        ("/api/v1/audit/records", _cursor("r1|9999-12-31T23:59:59-12:00|1")),
    ],
    ids=["event-id", "row-id", "negative-row-id", "first-day-east", "last-day-west"],
)
async def test_a_page_cursor_holding_a_huge_number_is_a_bad_cursor(
    api: Api, path: str, cursor: str
) -> None:
    answer = await api.client.get(path, params={"after": cursor}, headers=api.auth("operator"))
    body = _problem(answer)
    assert (body["field"], body["error"]) == ("after", "audit.cursor")


# Dates at the edges --------------------------------------------------------------------------

EDGES = [
    ("since", "0001-01-01"),
    ("until", "9999-12-31"),
    ("since", "9999-12-31T23:59:59-12:00"),
    ("until", "0001-01-01T00:00:00+14:00"),
    ("since", "1899-12-31"),
    ("until", "3000-01-01"),
]


@pytest.mark.parametrize(("field", "value"), EDGES)
@pytest.mark.parametrize("path", ["/api/v1/audit/records", "/api/v1/audit/events"])
async def test_a_date_outside_the_supported_range_is_refused_saying_the_range(
    api: Api, path: str, field: str, value: str
) -> None:
    answer = await api.client.get(path, params={field: value}, headers=api.auth("operator"))
    body = _problem(answer)
    assert (body["field"], body["error"]) == (field, "audit.period-range")
    assert "1900-01-01" in body["detail"]
    assert "2999-12-31" in body["detail"]
    assert "۱۹۰۰" in body["detail_fa"] or "1900" in body["detail_fa"]


@pytest.mark.parametrize(("field", "value"), EDGES)
async def test_a_record_search_outside_the_supported_range_is_refused(
    api: Api, field: str, value: str
) -> None:
    answer = await api.client.post(
        "/api/v1/audit/records/search",
        json={field: value, "national_code": CODE},
        headers=api.auth("auditor"),
    )
    body = _problem(answer)
    assert (body["field"], body["error"]) == (field, "audit.period-range")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("since", "0001-01-01"),
        ("until", "9999-12-31"),
        ("since", "1899-12-31"),
        ("until", "3000-01-01"),
    ],
)
async def test_withholdings_outside_the_supported_range_are_refused(
    api: Api, field: str, value: str
) -> None:
    answer = await api.client.get(
        "/api/v1/audit/withholdings", params={field: value}, headers=api.auth("auditor")
    )
    body = _problem(answer)
    assert body["field"] == field
    assert "1900-01-01" in body["detail"]


@pytest.mark.parametrize(("since", "until"), [("1900-01-01", "2999-12-31")])
async def test_the_first_and_last_supported_days_are_answered(
    api: Api, since: str, until: str
) -> None:
    params = {"since": since, "until": until}
    for path in ("/api/v1/audit/records", "/api/v1/audit/events", "/api/v1/audit/withholdings"):
        answer = await api.client.get(path, params=params, headers=api.auth("auditor"))
        assert answer.status_code == 200, (path, answer.text)
