"""GET /api/v1/audit/records, POST /api/v1/audit/records/search and GET /api/v1/audit/events:
filters, keyset pages, who sees which record, and that no national code ever comes back."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from panjereh.audit.records import AuditRecord, Outcome
from panjereh.domain.identifiers import national_code_check_digit
from panjereh.storage.audit_browse import RecordCursor
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.web.app import PanjerehApp
from tests.integration.api.conftest import Api
from tests.support import RECORD

CODE = "001354241" + national_code_check_digit("001354241")
OTHER_CODE = "123456789" + national_code_check_digit("123456789")
T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # 11:30 in Tehran, 1405/09/11
BENEFITS = "social-security/benefits"
DEGREES = "science-ministry/degrees"
PERSON = "civil-registry.person.v1"
UNLISTED = "tax-office.income.v1"  # a service the registry does not (or no longer) list


def _exchange_id(n: int) -> str:
    return f"0190f3c2-4444-7000-8000-{n:012d}"


# (n, minutes after T0, consumer, service, outcome, subject): n is also the expected order key.
LOG = [
    (1, 0, BENEFITS, PERSON, Outcome.OK, CODE),
    (2, 10, DEGREES, PERSON, Outcome.DENIED, OTHER_CODE),
    (3, 20, BENEFITS, PERSON, Outcome.FAILED, CODE),
    (4, 30, DEGREES, UNLISTED, Outcome.OK, None),
    (5, 30, BENEFITS, PERSON, Outcome.OK, OTHER_CODE),  # the same instant as 4
    (6, 24 * 60, "tax-office/collector", UNLISTED, Outcome.NOT_FOUND, CODE),  # the next day
]
NEWEST_FIRST = [6, 5, 4, 3, 2, 1]


async def write_log(app: PanjerehApp) -> dict[str, str]:
    """The log above; returns the subject hash of each national code."""
    keys = app.runtime.subject_keys
    hashes = {CODE: keys.hash(CODE), OTHER_CODE: keys.hash(OTHER_CODE)}
    records: list[AuditRecord] = [
        dataclasses.replace(
            RECORD,
            exchange_id=_exchange_id(n),
            created_at=T0 + timedelta(minutes=minutes),
            consumer=consumer,
            service_id=service,
            outcome=outcome,
            subject_hash=hashes[subject] if subject else None,
        )
        for n, minutes, consumer, service, outcome, subject in LOG
    ]
    store = SqlAuditStore(app.runtime.engine)
    try:
        await store.append(records)
    finally:
        await store.close()
    return hashes


def _numbers(body: dict[str, Any]) -> list[int]:
    return [int(r["exchange_id"].rsplit("-", 1)[1]) for r in body["records"]]


async def _list(api: Api, persona: str, **params: str | int) -> list[int]:
    answer = await api.client.get("/api/v1/audit/records", params=params, headers=api.auth(persona))
    assert answer.status_code == 200, answer.text
    return _numbers(answer.json())


async def test_each_persona_sees_only_the_records_its_agency_is_party_to(api: Api) -> None:
    await write_log(api.app)
    seen = {
        persona: await _list(api, persona)
        for persona in ("stranger", "consumer", "owner", "auditor", "operator")
    }
    assert seen == {
        "stranger": [4, 2],  # science-ministry's own inquiries
        "consumer": [5, 3, 1],  # social-security's own inquiries
        "owner": [5, 3, 2, 1],  # every inquiry to civil-registry's service
        "auditor": NEWEST_FIRST,
        "operator": NEWEST_FIRST,
    }
    anonymous = await api.client.get("/api/v1/audit/records")
    assert anonymous.status_code == 401


async def test_a_filter_outside_its_agency_gives_an_administrator_nothing(api: Api) -> None:
    await write_log(api.app)
    assert await _list(api, "consumer", consumer_agency="science-ministry") == []
    assert await _list(api, "stranger", service=PERSON) == [2]  # only its own inquiry


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"service": PERSON}, [5, 3, 2, 1]),
        ({"system": DEGREES}, [4, 2]),
        ({"consumer_agency": "social-security"}, [5, 3, 1]),
        ({"provider_agency": "civil-registry"}, [5, 3, 2, 1]),
        ({"provider_agency": "science-ministry"}, []),  # it provides no service
        ({"agency": "science-ministry"}, [4, 2]),
        ({"agency": "civil-registry"}, [5, 3, 2, 1]),
        ({"outcome": "ok"}, [5, 4, 1]),
        ({"service": PERSON, "outcome": "ok"}, [5, 1]),
        ({"since": "2026-12-02T08:10:00Z", "until": "2026-12-02T08:30:00Z"}, [3, 2]),
        ({"since": "2026-12-02T11:50:00+03:30"}, [6, 5, 4, 3]),
        ({"since": "2026-12-03"}, [6]),  # a Tehran day: from 2026-12-02T20:30Z
        ({"until": "2026-12-02"}, [5, 4, 3, 2, 1]),  # to the end of that Tehran day
        ({"since": "۲۰۲۶-۱۲-۰۳"}, [6]),  # Persian digits too
        ({"service": PERSON, "since": "2026-12-02T08:20:00Z"}, [5, 3]),
    ],
)
async def test_filters_narrow_the_list(
    api: Api, params: dict[str, str], expected: list[int]
) -> None:
    await write_log(api.app)
    assert await _list(api, "auditor", **params) == expected


async def test_pages_follow_each_other_newest_first_without_gaps_or_repeats(api: Api) -> None:
    await write_log(api.app)
    seen: list[int] = []
    cursors: list[str] = []
    after = ""
    while True:
        answer = await api.client.get(
            "/api/v1/audit/records",
            params={"limit": 2, "after": after},
            headers=api.auth("operator"),
        )
        body = answer.json()
        seen += _numbers(body)
        if body["next"] is None:
            break
        after = body["next"]
        cursors.append(after)
    assert seen == NEWEST_FIRST  # 4 and 5 share an instant: split across no page boundary
    assert len(cursors) == 2
    # The cursor is opaque: it names the last row's time and id, nothing about the filters.
    assert RecordCursor.decode(cursors[0]).created_at == T0 + timedelta(minutes=30)
    filtered = await _list(api, "operator", service=PERSON, limit=1, after=cursors[0])
    assert filtered == [3]


async def test_a_row_carries_every_field_but_only_a_short_subject_reference(api: Api) -> None:
    hashes = await write_log(api.app)
    answer = await api.client.get(
        "/api/v1/audit/records", params={"limit": 6}, headers=api.auth("auditor")
    )
    rows = {int(r["exchange_id"].rsplit("-", 1)[1]): r for r in answer.json()["records"]}
    first = rows[1]
    assert first == {
        "exchange_id": _exchange_id(1),
        "created_at": "2026-12-02T08:00:00Z",
        "consumer": BENEFITS,
        "consumer_agency": "social-security",
        "service_id": PERSON,
        "provider_agency": "civil-registry",
        "purpose": "benefit-eligibility",
        "purpose_registered": True,
        "subject_ref": hashes[CODE][:12],
        "outcome": "ok",
        "status_code": 200,
        "error_type": None,
        "duration_ms": 3.25,
        "provider_ms": 1.5,
        "request_id": RECORD.request_id,
        "auth_method": "api-key",
        "replay_of": None,
        "cached": False,
        "shard": first["shard"],
        "seq": 1,
        "record_hash": first["record_hash"],
        "format": 1,  # written as a format-1 record: the format-2 values are empty
        "context": None,
        "request_bytes": None,
        "response_bytes": None,
        "operation": None,
        "projection_id": None,
    }
    assert len(first["record_hash"]) == 64
    assert rows[4]["subject_ref"] is None
    assert rows[4]["provider_agency"] is None  # a service the registry does not list
    for full in hashes.values():
        assert full not in answer.text


async def test_a_national_code_search_finds_the_persons_records_and_never_echoes_it(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    hashes = await write_log(api.app)
    caplog.set_level(logging.DEBUG)
    for persona in ("auditor", "operator"):
        answer = await api.client.post(
            "/api/v1/audit/records/search",
            json={"national_code": CODE},
            headers=api.auth(persona),
        )
        assert answer.status_code == 200, answer.text
        assert _numbers(answer.json()) == [6, 3, 1]
        assert CODE not in answer.text
        assert hashes[CODE] not in answer.text
    persian = "".join("۰۱۲۳۴۵۶۷۸۹"[int(d)] for d in OTHER_CODE)
    narrowed = await api.client.post(
        "/api/v1/audit/records/search",
        json={"national_code": persian, "service": PERSON, "outcome": "ok"},
        headers=api.auth("auditor"),
    )
    assert _numbers(narrowed.json()) == [5]
    assert CODE not in caplog.text
    assert OTHER_CODE not in caplog.text


async def test_records_about_a_code_refused_since_they_were_made_can_still_be_searched(
    api: Api,
) -> None:
    """A zero-serial code passed the exchange's checks before that rule (docs/domain.md): the
    records made about it then stay findable by it."""
    legacy = "0010000003"
    record = dataclasses.replace(
        RECORD,
        exchange_id=_exchange_id(7),
        created_at=T0,
        subject_hash=api.app.runtime.subject_keys.hash(legacy),
    )
    store = SqlAuditStore(api.app.runtime.engine)
    try:
        await store.append([record])
    finally:
        await store.close()
    answer = await api.client.post(
        "/api/v1/audit/records/search",
        json={"national_code": legacy},
        headers=api.auth("auditor"),
    )
    assert answer.status_code == 200, answer.text
    assert _numbers(answer.json()) == [7]
    assert legacy not in answer.text


@pytest.mark.parametrize("persona", ["stranger", "consumer", "owner"])
async def test_an_agency_administrator_may_not_search_by_national_code(
    api: Api, persona: str
) -> None:
    await write_log(api.app)
    answer = await api.client.post(
        "/api/v1/audit/records/search", json={"national_code": CODE}, headers=api.auth(persona)
    )
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert CODE not in answer.text


async def test_a_national_code_in_a_url_or_a_bad_one_is_refused_without_echoing_it(
    api: Api,
) -> None:
    in_url = await api.client.get(
        "/api/v1/audit/records", params={"national_code": CODE}, headers=api.auth("auditor")
    )
    assert in_url.status_code == 422
    assert in_url.json()["error"] == "audit.national-code-in-url"
    assert CODE not in in_url.text
    wrong = CODE[:9] + str((int(CODE[9]) + 1) % 10)
    bad = await api.client.post(
        "/api/v1/audit/records/search", json={"national_code": wrong}, headers=api.auth("auditor")
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "national_code"
    assert bad.json()["error"] == "national-code.checksum"
    assert wrong not in bad.text


@pytest.mark.parametrize(
    ("params", "field", "error"),
    [
        ({"since": "yesterday"}, "since", "audit.period"),
        ({"until": "2026-13-01"}, "until", "audit.period"),
        ({"since": "2026-12-02T08:00:00"}, "since", "audit.period-offset"),
        ({"since": "2026-12-03", "until": "2026-12-02"}, "until", "audit.period-order"),
        ({"outcome": "maybe"}, "outcome", "audit.outcome"),
        ({"after": "not-a-cursor"}, "after", "audit.cursor"),
        ({"after": RecordCursor(T0, 1).encode()[:-3]}, "after", "audit.cursor"),
    ],
)
async def test_bad_filters_get_a_clear_problem(
    api: Api, params: dict[str, str], field: str, error: str
) -> None:
    answer = await api.client.get(
        "/api/v1/audit/records", params=params, headers=api.auth("operator")
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert (body["field"], body["error"]) == (field, error)
    assert body["detail_fa"] != ""


async def test_a_limit_beyond_500_is_refused(api: Api) -> None:
    answer = await api.client.get(
        "/api/v1/audit/records", params={"limit": 501}, headers=api.auth("operator")
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "limit"


async def test_a_proof_waiting_for_its_checkpoint_is_a_404_to_whom_it_does_not_concern(
    api: Api,
) -> None:
    await write_log(api.app)
    path = f"/api/v1/audit/records/{_exchange_id(1)}/proof"
    statuses = {
        persona: (await api.client.get(path, headers=api.auth(persona))).status_code
        for persona in ("stranger", "consumer", "owner", "auditor")
    }
    assert statuses == {"stranger": 404, "consumer": 409, "owner": 409, "auditor": 409}


# Control-plane events -----------------------------------------------------------------------


async def _issue_key(api: Api) -> str:
    answer = await api.client.post(
        "/api/v1/systems/civil-registry/population-registry/api-keys",
        json={"reason": "a key for the events test", "label": "events"},
        headers=api.auth("owner"),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["api_key"])


async def test_events_are_listed_newest_first_with_filters_and_no_credential_hash(
    api: Api,
) -> None:
    key = await _issue_key(api)
    answer = await api.client.get(
        "/api/v1/audit/events",
        params={"actor": "user:owner", "object_type": "system"},
        headers=api.auth("auditor"),
    )
    assert answer.status_code == 200, answer.text
    events = answer.json()["events"]
    assert [(e["action"], e["object_type"], e["object_id"]) for e in events] == [
        ("api-key.issue", "system", "civil-registry/population-registry")
    ]
    assert events[0]["reason"] == "a key for the events test"
    (issued,) = events[0]["after"]["api_keys"]
    assert issued["key_hash"] == "(not shown)"
    assert key not in answer.text
    by_type = await api.client.get(
        "/api/v1/audit/events",
        params={"object_type": "user", "action": "user.create", "limit": 2},
        headers=api.auth("operator"),
    )
    first = by_type.json()
    assert [e["object_id"] for e in first["events"]] == ["operator", "auditor"]
    second = await api.client.get(
        "/api/v1/audit/events",
        params={"object_type": "user", "action": "user.create", "after": first["next"]},
        headers=api.auth("operator"),
    )
    assert [e["object_id"] for e in second.json()["events"]] == ["stranger", "consumer", "owner"]
    assert second.json()["next"] is None


async def test_events_by_period(api: Api) -> None:
    await _issue_key(api)  # at the real time, after the fixture's events of 2026-11-28
    old = await api.client.get(
        "/api/v1/audit/events",
        params={"until": "2026-11-28", "action": "api-key.issue"},
        headers=api.auth("auditor"),
    )
    assert old.json()["events"] == []
    recent = await api.client.get(
        "/api/v1/audit/events",
        params={"since": "2026-11-29", "action": "api-key.issue"},
        headers=api.auth("auditor"),
    )
    assert [e["action"] for e in recent.json()["events"]] == ["api-key.issue"]


@pytest.mark.parametrize("persona", ["stranger", "consumer", "owner"])
async def test_agency_administrators_do_not_read_the_control_plane_events(
    api: Api, persona: str
) -> None:
    answer = await api.client.get("/api/v1/audit/events", headers=api.auth(persona))
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_bad_event_filter_gets_a_clear_problem(api: Api) -> None:
    answer = await api.client.get(
        "/api/v1/audit/events", params={"after": "eA"}, headers=api.auth("auditor")
    )
    assert (answer.status_code, answer.json()["error"]) == (422, "audit.cursor")
