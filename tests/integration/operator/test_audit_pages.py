"""The audit pages of the operator area for every persona, in both languages: the log with
its filters and pages, the national-code search (POST with CSRF, the code never shown), one
record with its proof, and the control-plane events."""

from __future__ import annotations

import base64
import json
import re

import pytest
from sqlalchemy import select

from panjereh.audit.proofs import check
from panjereh.storage.tables import api_keys
from panjereh.web.operator import audit
from tests.integration.api.test_audit_browse import CODE, NEWEST_FIRST, _exchange_id, write_log
from tests.integration.operator.conftest import OperatorArea

EVERYONE = ["owner", "consumer", "stranger", "auditor", "operator"]
PREFIXES = ("/operator", "/en/operator")
RECORD_LINK = re.compile(r'href="/(?:en/)?operator/audit/records/0190f3c2-4444-7000-8000-(\d{12})"')
FIRST = _exchange_id(1)
VISIBLE = {
    "stranger": [4, 2],
    "consumer": [5, 3, 1],
    "owner": [5, 3, 2, 1],
    "auditor": NEWEST_FIRST,
    "operator": NEWEST_FIRST,
}


def listed(html: str) -> list[int]:
    return [int(n) for n in RECORD_LINK.findall(html)]


async def test_the_log_shows_each_persona_its_own_records_in_both_languages(
    area: OperatorArea,
) -> None:
    await write_log(area.app)
    for persona in EVERYONE:
        for prefix in PREFIXES:
            answer = await area.get(persona, f"{prefix}/audit")
            assert answer.status_code == 200, (persona, answer.text)
            assert listed(answer.text) == VISIBLE[persona], (persona, prefix)
            assert "built-in method" not in answer.text  # a text key shadowed by a dict method
            assert f'href="{prefix}/audit" aria-current="page"' in answer.text  # in the nav


async def test_times_are_jalali_in_tehran_with_persian_digits_in_persian(
    area: OperatorArea,
) -> None:
    await write_log(area.app)
    fa = await area.get("auditor", "/operator/audit")
    en = await area.get("auditor", "/en/operator/audit")
    assert "۱۴۰۵/۰۹/۱۱ ۱۱:۳۰" in fa.text  # record 1: 2026-12-02T08:00Z
    assert "1405/09/11 11:30" in en.text
    assert '<html lang="fa" dir="rtl">' in fa.text
    assert "سازمان تأمین اجتماعی" in fa.text  # names from the registry snapshot
    assert "Social Security Organization" in en.text
    assert "پاسخ داده شد" in fa.text  # the outcome's label


@pytest.mark.parametrize(
    ("prefix", "query", "expected"),
    [
        ("/operator", {"since": "۱۴۰۵/۰۹/۱۲"}, [6]),
        ("/operator", {"until": "1405/09/11"}, [5, 4, 3, 2, 1]),
        ("/en/operator", {"since": "2026-12-03"}, [6]),
        ("/operator", {"service": "civil-registry.person.v1", "outcome": "ok"}, [5, 1]),
        ("/operator", {"agency": "science-ministry"}, [4, 2]),
        ("/operator", {"agency": "civil-registry", "side": "provider"}, [5, 3, 2, 1]),
        ("/operator", {"agency": "civil-registry", "side": "consumer"}, []),
        ("/en/operator", {"system": "science-ministry/degrees"}, [4, 2]),
    ],
)
async def test_the_filters_narrow_the_log(
    area: OperatorArea, prefix: str, query: dict[str, str], expected: list[int]
) -> None:
    await write_log(area.app)
    answer = await area.get("operator", f"{prefix}/audit", params=query)
    assert answer.status_code == 200
    assert listed(answer.text) == expected


@pytest.mark.parametrize(
    ("prefix", "query", "message"),
    [
        ("/operator", {"since": "1405/13/01"}, "این تاریخ در تقویم هجری شمسی وجود ندارد."),
        ("/operator", {"since": "دیروز"}, "تاریخ را مانند ۱۴۰۵/۰۹/۰۷ بنویسید."),
        ("/en/operator", {"since": "02/12/2026"}, "Write the day like 2026-12-02."),
        ("/en/operator", {"since": "2026-12-03", "until": "2026-12-02"}, "ends before it starts"),
        ("/en/operator", {"after": "garbage"}, "This page link is not valid any more"),
        # Days at the ends of the calendar (issue 25: they were a 500).
        ("/en/operator", {"until": "9999-12-31"}, "a day from 1900-01-01 to 2999-12-31"),
        ("/en/operator", {"since": "0001-01-01"}, "a day from 1900-01-01 to 2999-12-31"),
        ("/operator", {"until": "۹۳۷۷/۱۲/۲۹"}, "روزی از ۱۲۷۸/۱۰/۱۱ تا ۲۳۷۸/۱۰/۱۰"),
        ("/operator/audit/events", {"since": "0001/01/01"}, "روزی از ۱۲۷۸/۱۰/۱۱ تا ۲۳۷۸/۱۰/۱۰"),
    ],
)
async def test_a_bad_filter_is_explained_on_the_page(
    area: OperatorArea, prefix: str, query: dict[str, str], message: str
) -> None:
    await write_log(area.app)
    path = prefix if prefix.endswith("/events") else f"{prefix}/audit"
    answer = await area.get("auditor", path, params=query)
    assert answer.status_code == 422
    assert message in answer.text
    assert listed(answer.text) == []


async def test_next_page_links_walk_the_log_newest_first(
    area: OperatorArea, monkeypatch: pytest.MonkeyPatch
) -> None:
    await write_log(area.app)
    monkeypatch.setattr(audit, "PAGE_SIZE", 4)
    first = await area.get("operator", "/operator/audit", params={"outcome": ""})
    assert listed(first.text) == [6, 5, 4, 3]
    found = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert found is not None
    second = await area.get("operator", found.group(1).replace("&amp;", "&"))
    assert listed(second.text) == [2, 1]
    assert 'rel="next"' not in second.text


async def test_a_national_code_search_is_a_post_with_csrf_and_never_shows_the_code(
    area: OperatorArea, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = await write_log(area.app)
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    for prefix in PREFIXES:
        answer = await area.post("auditor", f"{prefix}/audit/search", {"national_code": CODE})
        assert answer.status_code == 200, answer.text
        assert listed(answer.text) == [6, 3]
        assert CODE not in answer.text
        assert str(answer.url).endswith("/audit/search")  # no code in the address
        # The next page's form carries the keyed hash, not the code.
        assert f'name="subjects" value="{hashes[CODE]}"' in answer.text
        cursor = re.search(r'name="after" value="([^"]+)"', answer.text)
        assert cursor is not None
        following = await area.post(
            "auditor",
            f"{prefix}/audit/search",
            {"subjects": hashes[CODE], "after": cursor.group(1)},
        )
        assert listed(following.text) == [1]
        assert CODE not in following.text


async def test_the_search_needs_the_sessions_csrf_token(area: OperatorArea) -> None:
    await write_log(area.app)
    answer = await area.post(
        "auditor", "/operator/audit/search", {"national_code": CODE}, csrf="forged"
    )
    assert answer.status_code == 403
    assert listed(answer.text) == []
    anonymous = await area.post("nobody", "/operator/audit/search", {"national_code": CODE})
    assert anonymous.status_code == 403


@pytest.mark.parametrize("persona", ["owner", "consumer", "stranger"])
async def test_agency_administrators_get_no_search_box_and_no_search(
    area: OperatorArea, persona: str
) -> None:
    await write_log(area.app)
    page = await area.get(persona, "/operator/audit")
    assert 'name="national_code"' not in page.text
    answer = await area.post(persona, "/operator/audit/search", {"national_code": CODE})
    assert answer.status_code == 403
    assert listed(answer.text) == []


async def test_a_bad_national_code_is_refused_without_echoing_it(area: OperatorArea) -> None:
    wrong = CODE[:9] + str((int(CODE[9]) + 1) % 10)
    answer = await area.post("auditor", "/en/operator/audit/search", {"national_code": wrong})
    assert answer.status_code == 422
    assert wrong not in answer.text
    assert "national code" in answer.text.lower()


async def test_a_record_shows_every_field_its_chain_position_and_then_its_proof(
    area: OperatorArea,
) -> None:
    hashes = await write_log(area.app)
    path = f"/operator/audit/records/{FIRST}"
    waiting = await area.get("consumer", path)
    assert waiting.status_code == 200
    assert "نقطه‌های بازبینی هر ۶۰ ثانیه ساخته می‌شوند" in waiting.text
    assert hashes[CODE][:12] in waiting.text
    assert hashes[CODE] not in waiting.text
    assert "proof.json" not in waiting.text
    assert (await area.get("consumer", f"{path}/proof.json")).status_code == 409
    assert await area.app.runtime.checkpoint() is not None
    for prefix in PREFIXES:
        page = await area.get("consumer", f"{prefix}/audit/records/{FIRST}")
        assert page.status_code == 200
        for text in (FIRST, "social-security/benefits", "benefit-eligibility"):
            assert text in page.text
        assert f"{prefix}/audit/records/{FIRST}/proof.json" in page.text
    persian = await area.get("consumer", path)
    assert "<dd>۳٫۲۵</dd>" in persian.text
    english = await area.get("consumer", f"/en/operator/audit/records/{FIRST}")
    assert "Ed25519 signature" in english.text
    assert "<dd>API key</dd>" in english.text
    assert "<dd>3.25</dd>" in english.text  # the duration in ms
    assert "built-in method" not in english.text
    assert "Person inquiry" in english.text
    download = await area.get("consumer", f"{path}/proof.json")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == f'attachment; filename="proof-{FIRST}.json"'
    jwks = (await area.client("nobody").get("/exchange/v1/keys")).json()
    keys = {
        k["kid"]: base64.urlsafe_b64decode(k["x"] + "=" * (-len(k["x"]) % 4)) for k in jwks["keys"]
    }
    proven = check(json.loads(download.text), keys.get)
    assert proven.exchange_id == FIRST
    assert proven.subject_hash == hashes[CODE]


async def test_a_record_is_not_found_for_whom_it_does_not_concern(area: OperatorArea) -> None:
    await write_log(area.app)
    await area.app.runtime.checkpoint()
    for prefix in PREFIXES:
        for suffix in ("", "/proof.json"):
            answer = await area.get("stranger", f"{prefix}/audit/records/{FIRST}{suffix}")
            assert answer.status_code == 404
            assert FIRST not in answer.text
        missing = await area.get("operator", f"{prefix}/audit/records/no-such-record")
        assert missing.status_code == 404
        too_long = await area.get("operator", f"{prefix}/audit/records/{'x' * 100}")
        assert too_long.status_code == 404


async def test_the_events_page_lists_control_plane_events_without_key_hashes(
    area: OperatorArea,
) -> None:
    async with area.engine.connect() as conn:
        key_hash = (await conn.execute(select(api_keys.c.key_hash))).scalar_one()
    for prefix in PREFIXES:
        page = await area.get("auditor", f"{prefix}/audit/events")
        assert page.status_code == 200
        assert "api-key.issue" in page.text
        assert "user.create" in page.text
        assert "built-in method" not in page.text
        assert key_hash not in page.text
        narrowed = await area.get(
            "operator", f"{prefix}/audit/events", params={"action": "api-key.issue"}
        )
        assert "user.create" not in narrowed.text
        assert "civil-registry/<wbr>population-registry" in narrowed.text
    fa = await area.get("auditor", "/operator/audit/events", params={"since": "۱۴۰۵/۰۹/۰۷"})
    assert "۱۴۰۵/۰۹/۰۷ ۱۵:۳۰" in fa.text  # the fixture's events, at 12:00 UTC
    later = await area.get("auditor", "/operator/audit/events", params={"since": "۱۴۰۵/۰۹/۰۸"})
    assert "رویدادی با این پالایه‌ها نیست." in later.text


async def test_events_pages_follow_each_other(
    area: OperatorArea, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "PAGE_SIZE", 3)
    first = await area.get("auditor", "/en/operator/audit/events", params={"action": "user.create"})
    assert first.text.count('<code dir="ltr">user.create</code>') == 3
    found = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert found is not None
    second = await area.get("auditor", found.group(1).replace("&amp;", "&"))
    assert second.text.count('<code dir="ltr">user.create</code>') == 2
    assert 'rel="next"' not in second.text


@pytest.mark.parametrize("persona", ["owner", "consumer", "stranger"])
async def test_agency_administrators_do_not_see_the_events(
    area: OperatorArea, persona: str
) -> None:
    answer = await area.get(persona, "/operator/audit/events")
    assert answer.status_code == 403
    page = await area.get(persona, "/operator/audit")
    assert "/operator/audit/events" not in page.text


async def test_the_audit_pages_send_an_anonymous_visitor_to_sign_in(area: OperatorArea) -> None:
    for path in ("/audit", f"/audit/records/{FIRST}", "/audit/events"):
        answer = await area.get("nobody", "/operator" + path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/operator/sign-in?next=")
