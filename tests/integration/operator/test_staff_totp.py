"""Staff TOTP (RFC 6238): enrolment from the operator area (QR code and key shown once,
confirmed by a first code, ten recovery codes shown once), the second sign-in step (throttled
like the password, no code used twice), recovery codes, turning it off with a code, and
``PANJEREH_STAFF_TOTP_REQUIRED``; every step a registry event."""

from __future__ import annotations

import re

import httpx
import pyotp
from sqlalchemy import select

from panjereh.config import Settings
from panjereh.domain.events import AuditEvent, EventOutcome
from panjereh.domain.text import persian_digits
from panjereh.storage.tables import staff_recovery_codes, staff_totp
from panjereh.web.app import create_app
from tests.integration.operator.conftest import (
    BASE_URL,
    PASSWORD,
    TOKEN,
    OperatorArea,
    sign_in_with_form,
)

SECRET = re.compile(r'class="op-secret">([A-Z2-7 ]+)<')
CODES = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


def browser(area: OperatorArea, address: str = "198.51.100.40") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=area.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


def code_now(area: OperatorArea, secret: str, offset: float = 0) -> str:
    return pyotp.TOTP(secret).at(area.clock.now().timestamp() + offset)


def wrong_code(area: OperatorArea, secret: str) -> str:
    """A six-digit code that no step around now has (so no test depends on luck)."""
    valid = {code_now(area, secret, offset) for offset in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


async def enrol(area: OperatorArea, persona: str) -> tuple[str, list[str]]:
    """Turn TOTP on for ``persona`` through the pages: (the secret, the recovery codes)."""
    page = await area.post(persona, "/operator/security/enrol", {})
    assert page.status_code == 200, page.text
    found = SECRET.search(page.text)
    assert found is not None
    secret = found.group(1).replace(" ", "")
    done = await area.post(persona, "/operator/security/confirm", {"code": code_now(area, secret)})
    assert done.status_code == 200, done.text
    area.clock.advance(30)  # the enrolment's code is spent: the next one is the app's next
    return secret, CODES.findall(done.text)


async def events(area: OperatorArea, username: str, prefix: str) -> list[AuditEvent]:
    return [e for e in await area.events("user", username) if e.action.startswith(prefix)]


async def send_code(
    client: httpx.AsyncClient, code: str, prefix: str = "/operator"
) -> httpx.Response:
    page = await client.get(f"{prefix}/sign-in/code")
    token = TOKEN.search(page.text)
    assert token is not None, page.text
    return await client.post(f"{prefix}/sign-in/code", data={"token": token.group(1), "code": code})


async def test_a_staff_member_enrols_with_a_qr_code_confirmed_by_a_first_code(
    area: OperatorArea,
) -> None:
    for persona in ("auditor", "operator"):  # every staff role may (the owner is an agency admin)
        page = await area.get(persona, "/operator/security")
        assert page.status_code == 200
        assert "ورود دومرحله‌ای فعال نیست." in page.text
    page = await area.post("owner", "/en/operator/security/enrol", {})
    assert page.status_code == 200
    assert '<svg width="' in page.text
    assert "<title>QR code for the authenticator app</title>" in page.text
    found = SECRET.search(page.text)
    assert found is not None
    secret = found.group(1).replace(" ", "")
    wrong = await area.post(
        "owner", "/en/operator/security/confirm", {"code": wrong_code(area, secret)}
    )
    assert wrong.status_code == 422
    assert "This code is not right" in wrong.text
    assert secret in wrong.text.replace(" ", "")  # the pending key is shown again
    # Persian digits are accepted
    code = persian_digits(code_now(area, secret))
    done = await area.post("owner", "/operator/security/confirm", {"code": code})
    assert done.status_code == 200
    codes = CODES.findall(done.text)
    assert len(set(codes)) == 10
    async with area.engine.connect() as conn:
        row = (await conn.execute(select(staff_totp))).mappings().one()
        hashes = (await conn.execute(select(staff_recovery_codes.c.code_hash))).scalars().all()
    assert row["confirmed_at"] == area.clock.now()
    assert secret not in row["secret"]
    assert len(hashes) == 10
    assert not set(codes) & set(hashes)
    assert [(e.outcome, e.actor) for e in await events(area, "owner", "user.totp-enrol")] == [
        (EventOutcome.REFUSED, "user:owner"),
        (EventOutcome.SUCCEEDED, "user:owner"),
    ]
    status = await area.get("owner", "/en/operator/security")
    assert "Two-step sign-in is on" in status.text
    assert secret not in status.text.replace(" ", "")  # never shown again


async def test_with_totp_the_password_leads_to_the_code_and_a_code_works_once(
    area: OperatorArea,
) -> None:
    secret, _codes = await enrol(area, "owner")
    async with browser(area) as client:
        answer = await sign_in_with_form(client, "owner", PASSWORD, next_path="/operator/grants")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/operator/sign-in/code?next=%2Foperator%2Fgrants"
        assert area.sessions.session_cookie not in client.cookies
        assert (await client.get("/operator/")).status_code == 303  # not signed in yet
        code = code_now(area, secret)
        signed = await send_code(client, code)
        assert signed.status_code == 303
        assert signed.headers["location"] == "/operator/"
        assert (await client.get("/operator/")).status_code == 200
    async with browser(area) as again:  # the same code, within its 30 seconds
        await sign_in_with_form(again, "owner", PASSWORD)
        replayed = await send_code(again, code)
        assert replayed.status_code == 200
        assert "این کد درست نیست یا پیش‌تر به کار رفته است." in replayed.text
        area.clock.advance(30)
        assert (await send_code(again, code_now(area, secret))).status_code == 303
    signed_in = await events(area, "owner", "user.sign-in")
    assert [(e.after or {}).get("second_factor") for e in signed_in] == ["totp", "totp"]
    refused = await events(area, "owner", "user.totp-verify")
    assert [(e.actor, e.outcome) for e in refused] == [("anonymous", EventOutcome.REFUSED)]


async def test_wrong_codes_are_throttled_like_passwords(area: OperatorArea) -> None:
    secret, _codes = await enrol(area, "owner")
    async with browser(area) as client:
        await sign_in_with_form(client, "owner", PASSWORD)
        wrong = wrong_code(area, secret)
        statuses = [(await send_code(client, wrong)).status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429, 429]
        right = await send_code(client, code_now(area, secret))
        assert right.status_code == 429
        assert right.headers["retry-after"] == "1"
    assert len(await events(area, "owner", "user.totp-verify")) == 6


async def test_a_recovery_code_signs_in_once_within_the_five_minutes_of_the_step(
    area: OperatorArea,
) -> None:
    _secret, codes = await enrol(area, "owner")
    async with browser(area) as client:
        await sign_in_with_form(client, "owner", PASSWORD)
        assert (await send_code(client, codes[3].upper().replace("-", " "))).status_code == 303
    async with browser(area) as client:
        await sign_in_with_form(client, "owner", PASSWORD)
        assert (await send_code(client, codes[3])).status_code == 200  # used already
    used = await events(area, "owner", "user.totp-recovery-used")
    assert [(e.actor, e.after) for e in used] == [("user:owner", {"left": 9})]
    async with browser(area) as client:  # the second step lasts five minutes
        await sign_in_with_form(client, "owner", PASSWORD, prefix="/en/operator")
        area.clock.advance(301)
        late = await send_code(client, codes[4], prefix="/en/operator")
        assert late.status_code == 200
        assert "This sign-in has expired" in late.text
        assert area.sessions.session_cookie not in client.cookies


async def test_the_user_turns_totp_off_with_a_code_and_not_without(area: OperatorArea) -> None:
    secret, _codes = await enrol(area, "owner")
    wrong = await area.post(
        "owner", "/operator/security/disable", {"code": wrong_code(area, secret)}
    )
    assert wrong.status_code == 422
    assert (await area.post("owner", "/operator/security/disable", {})).status_code == 422
    done = await area.post("owner", "/operator/security/disable", {"code": code_now(area, secret)})
    assert done.status_code == 303
    assert done.headers["location"] == "/operator/security?done=totp.disable"
    async with area.engine.connect() as conn:
        assert (await conn.execute(select(staff_totp))).first() is None
        assert (await conn.execute(select(staff_recovery_codes))).first() is None
    outcomes = [(e.outcome, e.actor) for e in await events(area, "owner", "user.totp-disable")]
    assert outcomes == [
        (EventOutcome.REFUSED, "user:owner"),
        (EventOutcome.REFUSED, "user:owner"),
        (EventOutcome.SUCCEEDED, "user:owner"),
    ]
    async with browser(area) as client:  # the password alone is enough again
        assert (await sign_in_with_form(client, "owner", PASSWORD)).headers["location"] == (
            "/operator/"
        )


async def test_when_required_a_staff_member_without_totp_can_only_enrol(
    area: OperatorArea, dev_settings: Settings
) -> None:
    settings = dev_settings.model_copy(update={"staff_totp_required": True})
    app = create_app(settings, clock=area.clock)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.41", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            answer = await sign_in_with_form(client, "consumer", PASSWORD, next_path="/operator/")
            assert answer.headers["location"] == "/operator/security"
            assert (await client.get("/operator/grants")).headers["location"] == (
                "/operator/security"
            )
            page = await client.get("/operator/security")
            assert "ورود دومرحله‌ای در این سامانه الزامی است" in page.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None
            refused = await client.post(
                "/operator/grants/social-security/benefits/civil-registry.person.v1/revoke",
                data={"csrf": csrf.group(1), "reason": "before enrolling"},
            )
            assert refused.status_code == 403
            enrolment = await client.post("/operator/security/enrol", data={"csrf": csrf.group(1)})
            found = SECRET.search(enrolment.text)
            assert found is not None
            code = code_now(area, found.group(1).replace(" ", ""))
            await client.post(
                "/operator/security/confirm", data={"csrf": csrf.group(1), "code": code}
            )
            assert (await client.get("/operator/grants")).status_code == 200
    finally:
        await app.runtime.engine.dispose()
    async with area.registry() as ops:
        grant = await ops.grant("social-security/benefits", "civil-registry.person.v1")
    assert grant.status == "active"
