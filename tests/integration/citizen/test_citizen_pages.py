"""The portal's "who looked at my data?" pages, the report form and the development sign-in:
Jalali in Persian, Gregorian in English, CSRF on every form, 404 outside development."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy import func, select

from panjereh.audit.records import AuditRecord
from panjereh.config import Settings
from panjereh.domain.text import persian_digits
from panjereh.storage.events_repo import events_for
from panjereh.storage.tables import audit_cases, citizen_sessions
from panjereh.web.app import create_app
from tests.integration.citizen.conftest import (
    CITIZEN,
    CitizenWorld,
    dev_sign_in,
    exchange_id,
    record,
)
from tests.integration.operator.conftest import BASE_URL
from tests.production import PRODUCTION_KEYS

ROW = re.compile(r'<tr id="x-([^"]+)">')


def rows(html: str) -> list[str]:
    return ROW.findall(html)


async def cases(world: CitizenWorld) -> int:
    async with world.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(audit_cases)) or 0)


async def test_the_persian_page_is_rtl_with_jalali_dates_in_persian_digits(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    page = await world.citizen.get("/me/inquiries")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="fa" dir="rtl">' in html
    assert "<h1>چه کسی اطلاعات مرا دید؟</h1>" in html
    assert rows(html) == [exchange_id(n) for n in (1, 2, 3, 6, 7)]
    first = html[html.index(f'id="x-{exchange_id(1)}"') :]
    assert first.index("<time>۱۴۰۵/۰۹/۱۱</time>") < first.index("۱۲:۲۹") < first.index("</tr>")
    assert "سازمان تأمین اجتماعی" in first
    assert ">benefits<" in first  # the system by its code: its one name is English
    assert "Benefits" not in first[: first.index("</tr>")]
    assert "بررسی استحقاق مزایا" in first
    assert "پاسخ داده شد" in first
    assert "یافت نشد" in html  # record 2's outcome
    assert "به حکم قانون" in html  # the withholding notice, shown to everyone
    assert CITIZEN not in html
    assert world.hash not in html
    assert page.headers["cache-control"] == "no-store"
    assert 'href="/en/me/inquiries"' in html


async def test_the_english_page_is_ltr_with_gregorian_dates(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    html = (await world.citizen.get("/en/me/inquiries")).text
    assert '<html lang="en" dir="ltr">' in html
    assert "Who looked at my data?" in html
    first = html[html.index(f'id="x-{exchange_id(1)}"') :]
    assert first.index("<time>2026-12-02</time>") < first.index("12:29") < first.index("</tr>")
    assert "Social Security Organization" in first
    assert "Benefits" in first[: first.index("</tr>")]  # the system's registered name
    assert "Benefit eligibility" in first
    assert "Answered" in first
    assert "۱۴۰۵" not in first


async def test_the_persian_filter_takes_jalali_dates_in_any_digits(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    day = {"from": "۱۴۰۵/۰۹/۱۱", "to": "1405/9/11", "agency": "social-security"}
    html = (await world.citizen.get("/me/inquiries", params=day)).text
    assert rows(html) == [exchange_id(n) for n in (1, 2, 3, 6)]
    assert 'value="۱۴۰۵/۰۹/۱۱"' in html  # what the citizen typed stays in the form
    assert '<option value="social-security" selected>' in html
    before = (await world.citizen.get("/me/inquiries", params={"to": "۱۴۰۵/۰۹/۱۰"})).text
    assert rows(before) == []
    assert "استعلامی با این شرایط درباره شما ثبت نشده است." in before
    bad = await world.citizen.get("/me/inquiries", params={"from": "۱۴۰۵/۱۳/۰۱"})
    assert bad.status_code == 422
    assert "این تاریخ در تقویم هجری شمسی وجود ندارد." in bad.text
    english = await world.citizen.get("/en/me/inquiries", params={"from": "2026-12-02"})
    assert rows(english.text) == [exchange_id(n) for n in (1, 2, 3, 6, 7)]
    wrong = await world.citizen.get("/en/me/inquiries", params={"from": "1405/09/11"})
    assert wrong.status_code == 422
    assert "Write the date like 2026-11-22." in wrong.text


async def test_the_next_page_link_continues_the_list(world: CitizenWorld) -> None:
    await world.write([record(n, world.hash) for n in range(1, 56)])
    first = (await world.citizen.get("/me/inquiries", params={"agency": "social-security"})).text
    assert rows(first) == [exchange_id(n) for n in range(1, 51)]
    found = re.search(r'<a rel="next" href="([^"]+)">صفحه بعد</a>', first)
    assert found is not None
    link = found.group(1).replace("&amp;", "&")
    assert "agency=social-security" in link
    second = (await world.citizen.get(link)).text
    assert rows(second) == [exchange_id(n) for n in range(51, 56)]
    assert 'rel="next"' not in second
    assert 'href="/me/inquiries">صفحه نخست</a>' in second


async def test_reporting_a_record_opens_a_case_and_confirms_it(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    action = f"/me/inquiries/{exchange_id(3)}/flag"
    sent = await world.citizen.post(action, data={"csrf": world.csrf, "reason": "کار من نبود"})
    assert sent.status_code == 303
    assert sent.headers["location"] == "/me/inquiries?reported=1"
    page = (await world.citizen.get(sent.headers["location"])).text
    assert "گزارش شما با شماره پرونده ۱ ثبت شد" in page
    third = page[page.index(f'id="x-{exchange_id(3)}"') :]
    assert third.index("گزارش شد") < third.index("</tr>")
    assert f'action="/me/inquiries/{exchange_id(1)}/flag"' in page
    assert f'action="{action}"' not in page  # reported: no second form
    async with world.engine.connect() as conn:
        events = await events_for(conn, "audit-case", "1")
    assert [(e.action, e.reason) for e in events] == [("audit-case.open", "کار من نبود")]
    again = await world.citizen.post(action, data={"csrf": world.csrf, "reason": "again"})
    assert again.status_code == 409
    assert "پیش‌تر گزارش کرده‌اید" in again.text


async def test_a_report_without_the_token_or_with_a_bad_reason_changes_nothing(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    action = f"/me/inquiries/{exchange_id(1)}/flag"
    for form, status in (
        ({"reason": "no token"}, 403),
        ({"csrf": "wrong", "reason": "wrong token"}, 403),
        ({"csrf": world.csrf, "reason": "x"}, 422),
    ):
        response = await world.citizen.post(action, data=form)
        assert response.status_code == status, form
        assert "Traceback" not in response.text
    hidden = await world.citizen.post(
        f"/me/inquiries/{exchange_id(4)}/flag", data={"csrf": world.csrf, "reason": "withheld"}
    )
    assert hidden.status_code == 404
    assert "چنین استعلامی درباره شما ثبت نشده است." in hidden.text
    other = await world.citizen.post(
        f"/en/me/inquiries/{exchange_id(8)}/flag", data={"csrf": world.csrf, "reason": "theirs"}
    )
    assert other.status_code == 404
    assert "There is no such inquiry about you." in other.text
    assert await cases(world) == 0


async def test_the_development_sign_in_accepts_persian_digits_and_keeps_no_code(
    world: CitizenWorld,
) -> None:
    browser = world.client()
    signed = await dev_sign_in(browser, persian_digits(CITIZEN), prefix="/en")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/en/me/inquiries"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("panjereh-citizen=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=3600" in cookie
    async with world.engine.connect() as conn:
        stored = (await conn.execute(select(citizen_sessions))).mappings().all()
        events = await events_for(conn, "citizen", world.hash)
    assert len(stored) == 2  # the fixture's citizen and this one
    assert all(row["subject_hashes"] == [world.hash] for row in stored)
    assert CITIZEN not in str([dict(row) for row in stored])
    assert [e.action for e in events] == ["citizen.sign-in", "citizen.sign-in"]
    assert CITIZEN not in str([(e.object_id, e.reason, e.after) for e in events])


async def test_the_development_sign_in_refuses_bad_codes_and_forms(world: CitizenWorld) -> None:
    browser = world.client()
    bad = await dev_sign_in(browser, "0013542418")
    assert bad.status_code == 422
    assert "رقم کنترل کد ملی درست نیست" in bad.text
    no_token = await browser.post("/dev/sign-in", data={"national_code": CITIZEN})
    assert no_token.status_code == 403
    assert "مهلت این فرم گذشته است" in no_token.text
    outside = await dev_sign_in(browser, CITIZEN)
    assert outside.status_code == 303
    page = await browser.get("/dev/sign-in", params={"next": "https://evil.example/x"})
    assert 'name="next" value=""' in page.text


async def test_signing_out_ends_the_session(
    world: CitizenWorld, records: list[AuditRecord]
) -> None:
    refused = await world.citizen.post("/me/sign-out", data={"csrf": "wrong"})
    assert refused.status_code == 403
    done = await world.citizen.post("/me/sign-out", data={"csrf": world.csrf})
    assert done.status_code == 303
    assert done.headers["location"] == "/"
    assert (await world.citizen.get("/api/v1/me/inquiries")).status_code == 401


async def test_without_a_session_the_page_sends_to_the_development_sign_in(
    world: CitizenWorld,
) -> None:
    response = await world.client().get("/en/me/inquiries", params={"agency": "x"})
    assert response.status_code == 303
    assert (
        response.headers["location"] == "/en/dev/sign-in?next=%2Fen%2Fme%2Finquiries%3Fagency%3Dx"
    )
    refused = await world.client().post(f"/me/inquiries/{exchange_id(1)}/flag", data={})
    assert refused.status_code == 401


async def test_the_home_page_links_to_the_citizen_view(world: CitizenWorld) -> None:
    assert (
        'href="/me/inquiries">چه کسی اطلاعات مرا دید؟</a>' in (await world.client().get("/")).text
    )
    assert (
        'href="/en/me/inquiries">Who looked at my data?</a>'
        in (await world.client().get("/en/")).text
    )


async def test_outside_development_there_is_no_development_sign_in(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, **PRODUCTION_KEYS)
    app = create_app(settings)
    await app.runtime.engine.dispose()  # nothing is served from the database here
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        for path in ("/dev/sign-in", "/en/dev/sign-in"):
            assert (await client.get(path)).status_code == 404
            assert (await client.post(path, data={"national_code": CITIZEN})).status_code == 404
        page = await client.get("/me/inquiries")  # no sign-in to send anyone to yet
        assert page.status_code == 401
        assert "ورود درگاه هنوز راه‌اندازی نشده است" in page.text
