"""Signing in and out of the operator area: argon2 passwords, server-side sessions, the signed
sign-in form token, CSRF on sign-out, and no open redirect through ``next``."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from panjereh.config import Settings
from panjereh.domain.events import AuditEvent, EventOutcome
from panjereh.registry.model import Status
from panjereh.storage.tables import users
from panjereh.web.app import create_app
from tests.integration.operator.conftest import (
    BASE_URL,
    PASSWORD,
    OperatorArea,
    csrf_of,
    later,
    sign_in_with_form,
)


def fresh_client(area: OperatorArea) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=area.transport, base_url=BASE_URL)


async def sign_ins(area: OperatorArea, username: str) -> list[AuditEvent]:
    return [e for e in await area.events("user", username) if e.action == "user.sign-in"]


async def test_it_signs_a_person_in_and_sends_them_where_they_were_going(
    area: OperatorArea,
) -> None:
    async with fresh_client(area) as client:
        answer = await sign_in_with_form(
            client, "owner", PASSWORD, next_path="/operator/grants?status=pending"
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/operator/grants?status=pending"
        cookie = next(
            h
            for h in answer.headers.get_list("set-cookie")
            if h.startswith(area.sessions.session_cookie)
        )
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/" in cookie
        page = await client.get("/operator/")
        assert page.status_code == 200
        assert "Owner" in page.text
    assert [(e.actor, e.outcome) for e in await sign_ins(area, "owner")] == [
        ("user:owner", EventOutcome.SUCCEEDED)
    ]


async def test_over_https_the_cookies_are_secure_and_host_prefixed(
    area: OperatorArea, dev_settings: Settings
) -> None:
    settings = dev_settings.model_copy(update={"public_url": "https://panjereh.example"})
    app = create_app(settings, clock=area.clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://panjereh.example") as c:
        form = await c.get("/operator/sign-in")
        assert form.headers["set-cookie"].startswith("__Host-panjereh-sign-in=")
        assert "Secure" in form.headers["set-cookie"]
        answer = await sign_in_with_form(c, "owner", PASSWORD)
        session = next(
            h for h in answer.headers.get_list("set-cookie") if h.startswith("__Host-panjereh-op")
        )
        assert "Secure" in session
        assert "HttpOnly" in session
        assert "Path=/" in session
        assert "Domain" not in session
    await app.runtime.stop()


@pytest.mark.parametrize(
    ("username", "password"),
    [("owner", "not the password at all"), ("nobody-by-that-name", PASSWORD), ("owner", "")],
)
async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
    area: OperatorArea, username: str, password: str
) -> None:
    async with fresh_client(area) as client:
        answer = await sign_in_with_form(client, username, password)
        assert answer.status_code == 200
        assert "نام کاربری یا گذرواژه درست نیست." in answer.text
        assert area.sessions.session_cookie not in client.cookies
        assert (await client.get("/operator/")).status_code == 303
    assert [(e.actor, e.outcome) for e in await sign_ins(area, username)] == [
        ("anonymous", EventOutcome.REFUSED)
    ]


async def test_it_refuses_a_sign_in_without_the_form_token(area: OperatorArea) -> None:
    async with fresh_client(area) as client:
        answer = await client.post(
            "/en/operator/sign-in", data={"username": "owner", "password": PASSWORD}
        )
        assert answer.status_code == 403
        assert "This form has expired" in answer.text
        assert area.sessions.session_cookie not in client.cookies
    assert await sign_ins(area, "owner") == []


async def test_it_refuses_a_sign_in_form_token_that_is_not_the_cookies(
    area: OperatorArea,
) -> None:
    async with fresh_client(area) as client, fresh_client(area) as other:
        await client.get("/operator/sign-in")
        page = await other.get("/operator/sign-in")
        token = page.text.split('name="token" value="', 1)[1].split('"', 1)[0]
        answer = await client.post(
            "/operator/sign-in", data={"token": token, "username": "owner", "password": PASSWORD}
        )
        assert answer.status_code == 403
        assert area.sessions.session_cookie not in client.cookies


async def test_it_refuses_an_expired_sign_in_form(area: OperatorArea) -> None:
    async with fresh_client(area) as client:
        page = await client.get("/operator/sign-in")
        token = page.text.split('name="token" value="', 1)[1].split('"', 1)[0]
        later(area, timedelta(hours=1, minutes=1))
        answer = await client.post(
            "/operator/sign-in", data={"token": token, "username": "owner", "password": PASSWORD}
        )
        assert answer.status_code == 403
        assert "مهلت این فرم گذشته است" in answer.text
        assert area.sessions.session_cookie not in client.cookies
        again = await sign_in_with_form(client, "owner", PASSWORD)  # a fresh form works
        assert again.status_code == 303


async def test_a_session_ends_after_eight_hours(area: OperatorArea) -> None:
    assert (await area.get("owner", "/operator/")).status_code == 200
    later(area, timedelta(hours=8, seconds=1))
    answer = await area.get("owner", "/operator/")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/operator/sign-in?next=")


async def test_signing_in_again_replaces_the_old_session(area: OperatorArea) -> None:
    old = area.client("owner").cookies[area.sessions.session_cookie]
    async with fresh_client(area) as client:  # a sign-in form left open in another tab
        page = await client.get("/operator/sign-in")
        client.cookies.set(area.sessions.session_cookie, old)
        token = page.text.split('name="token" value="', 1)[1].split('"', 1)[0]
        answer = await client.post(
            "/operator/sign-in", data={"token": token, "username": "owner", "password": PASSWORD}
        )
        assert answer.status_code == 303
        assert answer.cookies[area.sessions.session_cookie] != old
    async with httpx.AsyncClient(
        transport=area.transport,
        base_url=BASE_URL,
        cookies={area.sessions.session_cookie: old},
    ) as stale:
        assert (await stale.get("/operator/")).status_code == 303


async def test_it_refuses_a_sign_out_without_the_csrf_token(area: OperatorArea) -> None:
    for csrf in ("", "not-the-token"):
        answer = await area.post("owner", "/operator/sign-out", {}, csrf=csrf)
        assert answer.status_code == 403
    assert (await area.get("owner", "/operator/")).status_code == 200


async def test_signing_out_ends_the_session(area: OperatorArea) -> None:
    client = area.client("owner")
    old = client.cookies[area.sessions.session_cookie]
    answer = await area.post("owner", "/en/operator/sign-out", {})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/en/operator/sign-in"
    assert 'panjereh-operator=""' in answer.headers["set-cookie"]
    assert "Max-Age=0" in answer.headers["set-cookie"]
    async with httpx.AsyncClient(
        transport=area.transport,
        base_url=BASE_URL,
        cookies={area.sessions.session_cookie: old},
    ) as replayed:
        assert (await replayed.get("/operator/")).status_code == 303
    signed_out = [e for e in await area.events("user", "owner") if e.action == "user.sign-out"]
    assert [(e.actor, e.outcome, e.reason) for e in signed_out] == [
        ("user:owner", EventOutcome.SUCCEEDED, "operator area sign-out")
    ]


@pytest.mark.parametrize("prefix", ["/operator", "/en/operator"])
async def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(
    area: OperatorArea, prefix: str
) -> None:
    answer = await area.get("nobody", f"{prefix}/grants?status=pending")
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        f"{prefix}/sign-in?next={prefix.replace('/', '%2F')}%2Fgrants%3Fstatus%3Dpending"
    )
    form = await area.client().get(answer.headers["location"])
    assert f'name="next" value="{prefix}/grants?status=pending"' in form.text


async def test_an_anonymous_post_is_refused_not_redirected(area: OperatorArea) -> None:
    answer = await area.client().post(
        "/operator/agencies/civil-registry/suspend", data={"reason": "no session"}
    )
    assert answer.status_code == 403
    async with area.registry() as ops:
        assert (await ops.agency("civil-registry")).status == "active"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/operator/",
        "https://evil.example/operator/",
        "/\\evil.example",
        "/operator/../api/v1/me",
        "/operator/%2e%2e/api/v1/me",
        "/operator//evil.example",
        "/portal",
        "javascript:alert(1)",
    ],
)
async def test_it_refuses_to_redirect_anywhere_but_the_area(
    area: OperatorArea, target: str
) -> None:
    async with fresh_client(area) as client:
        form = await client.get("/operator/sign-in", params={"next": target})
        assert 'name="next" value=""' in form.text
        answer = await sign_in_with_form(client, "owner", PASSWORD, next_path=target)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/operator/"
        signed_in = await client.get("/operator/sign-in", params={"next": target})
        assert signed_in.headers["location"] == "/operator/"


async def test_a_signed_in_person_skips_the_sign_in_form(area: OperatorArea) -> None:
    answer = await area.client("owner").get("/en/operator/sign-in?next=/en/operator/agencies")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/en/operator/agencies"


async def test_every_page_carries_the_csrf_token_of_its_session(area: OperatorArea) -> None:
    page = await area.get("operator", "/operator/agencies/civil-registry")
    assert csrf_of(page) == area.csrf["operator"]
    assert csrf_of(await area.get("owner", "/operator/")) == area.csrf["owner"]


async def test_a_suspended_account_cannot_sign_in_and_its_session_stops(
    area: OperatorArea,
) -> None:
    async with area.engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.username == "owner").values(status=Status.SUSPENDED)
        )
    assert (await area.get("owner", "/operator/")).status_code == 303
    async with fresh_client(area) as client:
        answer = await sign_in_with_form(client, "owner", PASSWORD, prefix="/en/operator")
        assert answer.status_code == 200
        assert "The user name or the password is not right." in answer.text
