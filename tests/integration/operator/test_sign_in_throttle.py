"""The operator sign-in behind the platform's throttle (issue 11, weakness 4): wrong passwords
lock the account name and the client address, the refusal is a 429 that says when to try again
and nothing about the account, and an operator can lift a lock.  (The doubling delays, on
every backend, are in tests/integration/storage/test_throttle.py.)"""

from __future__ import annotations

import httpx
import pytest

from panjereh.config import Settings
from panjereh.domain.events import AuditEvent, EventOutcome
from panjereh.domain.throttle import OBJECT_TYPE, KeyState
from panjereh.storage import users_repo
from panjereh.web.app import PanjerehApp, create_app
from tests.integration.operator.conftest import (
    BASE_URL,
    PASSWORD,
    TOKEN,
    OperatorArea,
    sign_in_with_form,
)


def client_at(
    area: OperatorArea,
    address: str = "198.51.100.7",
    *,
    app: PanjerehApp | None = None,
    forwarded_for: str | None = None,
) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app or area.app, client=(address, 40000))
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers)


async def throttle_events(area: OperatorArea, shown: str) -> list[AuditEvent]:
    return await area.events(OBJECT_TYPE, shown)


async def lockouts(area: OperatorArea) -> dict[str, KeyState]:
    found = await area.app.runtime.throttle.lockouts(area.clock.now())
    return {state.shown: state for state in found}


async def wrong_passwords(client: httpx.AsyncClient, username: str, count: int) -> list[int]:
    page = await client.get("/en/operator/sign-in")
    token = TOKEN.search(page.text)
    assert token is not None
    statuses = []
    for _ in range(count):
        answer = await client.post(
            "/en/operator/sign-in",
            data={"token": token.group(1), "username": username, "password": "wrong password!"},
        )
        statuses.append(answer.status_code)
    return statuses


async def test_forty_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(
    area: OperatorArea,
) -> None:
    """The review's attack: 40 wrong passwords in a few seconds, then the right one."""
    async with client_at(area) as client:
        statuses = await wrong_passwords(client, "owner", 40)
        assert statuses[:5] == [200] * 5  # five free failures
        assert statuses[5:] == [429] * 35  # the sixth locks for 1 s, the rest are refused
        answer = await sign_in_with_form(client, "owner", PASSWORD, prefix="/en/operator")
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == "1"
        assert "try again in 1 second (after 1405/09/07 15:30:01)" in answer.text
        assert area.sessions.session_cookie not in client.cookies
    locked = await lockouts(area)
    assert locked["account:owner"].failures == 6
    assert locked["address:198.51.100.7"].failures == 6
    assert locked["account:owner"].refusals == 35  # 34 wrong ones, then the right one
    checked = [e for e in await area.events("user", "owner") if e.action == "user.sign-in"]
    assert [e.outcome for e in checked] == [EventOutcome.REFUSED] * 6  # no 7th password check
    events = await throttle_events(area, "account:owner")
    assert [(e.action, e.outcome, (e.after or {}).get("refusals")) for e in events] == [
        ("sign-in-throttle.lock", EventOutcome.REFUSED, None),
        *[("sign-in-throttle.refuse", EventOutcome.REFUSED, n) for n in (1, 2, 4, 8, 16, 32)],
    ]
    assert events[0].after == {"failures": 6, "locked_until": "2026-11-28T12:00:01+00:00"}
    area.clock.advance(1)  # the lock is over: the right password works, and resets the account
    async with client_at(area) as client:
        assert (await sign_in_with_form(client, "owner", PASSWORD)).status_code == 303
    locked = await lockouts(area)
    assert "account:owner" not in locked
    assert locked["address:198.51.100.7"].failures == 6  # never the shared address's count


async def test_an_unknown_account_is_locked_and_refused_in_the_same_words(
    area: OperatorArea, monkeypatch: pytest.MonkeyPatch
) -> None:
    # unknown names are checked against a production-cost hash; not what this test is about
    monkeypatch.setattr(users_repo, "_DUMMY_HASH", users_repo._HASHER.hash("x"))
    async with client_at(area, "198.51.100.8") as one, client_at(area, "198.51.100.9") as two:
        await wrong_passwords(one, "owner", 6)
        await wrong_passwords(two, "nobody-by-that-name", 6)
        known = await sign_in_with_form(one, "owner", "wrong password!")
        unknown = await sign_in_with_form(two, "nobody-by-that-name", "wrong password!")
    assert known.status_code == unknown.status_code == 429
    assert known.headers["retry-after"] == unknown.headers["retry-after"]
    assert TOKEN.sub("", known.text).replace("owner", "") == TOKEN.sub("", unknown.text).replace(
        "nobody-by-that-name", ""
    )
    assert "تلاش‌های ناموفق زیاد بوده است. لطفاً ۱ ثانیه دیگر" in known.text


async def test_an_operator_lifts_a_lock_and_nobody_else_may(area: OperatorArea) -> None:
    async with client_at(area) as client:
        await wrong_passwords(client, "consumer", 6)
        key = (await lockouts(area))["account:consumer"].id
        anonymous = await client.post("/operator/lockouts/lift", data={"key": key, "reason": "x"})
    assert anonymous.status_code == 403
    for persona in ("owner", "auditor"):  # an agency admin, and one who reads but may not change
        answer = await area.post(persona, "/operator/lockouts/lift", {"key": key, "reason": "me"})
        assert answer.status_code == 403
    assert (await area.get("owner", "/operator/lockouts")).status_code == 403
    assert "account:consumer" in await lockouts(area)
    seen = await area.get("auditor", "/en/operator/lockouts")
    assert seen.status_code == 200
    assert "consumer" in seen.text
    assert "198.51.100.7" in seen.text
    answer = await area.post(
        "operator", "/en/operator/lockouts/lift", {"key": key, "reason": "called the help desk"}
    )
    assert answer.status_code == 303
    assert "account:consumer" not in await lockouts(area)
    assert "address:198.51.100.7" in await lockouts(area)
    lifted = [
        e for e in await throttle_events(area, "account:consumer") if e.action.endswith("lift")
    ]
    assert [(e.actor, e.reason, e.outcome) for e in lifted] == [
        ("user:operator", "called the help desk", EventOutcome.SUCCEEDED)
    ]
    assert lifted[0].before is not None
    assert lifted[0].before["failures"] == 6
    async with client_at(area, "198.51.100.99") as client:
        assert (await sign_in_with_form(client, "consumer", PASSWORD)).status_code == 303


async def test_behind_a_trusted_forwarder_each_client_is_counted_by_its_own_address(
    area: OperatorArea, dev_settings: Settings
) -> None:
    settings = dev_settings.model_copy(update={"trusted_forwarders": ("127.0.0.0/8",)})
    app = create_app(settings, clock=area.clock)
    try:
        async with client_at(area, "127.0.0.1", app=app, forwarded_for="203.0.113.5") as client:
            await wrong_passwords(client, "owner", 6)
            assert (await sign_in_with_form(client, "operator", PASSWORD)).status_code == 429
        async with client_at(area, "127.0.0.1", app=app, forwarded_for="203.0.113.6") as client:
            assert (await sign_in_with_form(client, "operator", PASSWORD)).status_code == 303
    finally:
        await app.runtime.engine.dispose()
    assert {"address:203.0.113.5", "account:owner"} <= set(await lockouts(area))


async def test_many_accounts_from_one_address_lock_it_and_the_peer_cannot_choose_it(
    area: OperatorArea,
) -> None:
    async with client_at(area, "2001:db8:1:2::10", forwarded_for="203.0.113.77") as client:
        names = ("owner", "consumer", "stranger", "auditor", "owner", "consumer")
        for n, name in enumerate(names):  # many accounts, at most two tries each: the 6th locks
            assert await wrong_passwords(client, name, 1) == [429 if n == 5 else 200]
    locked = set(await lockouts(area))
    assert "address:2001:db8:1:2::/64" in locked  # the peer's /64, not the header's address
    assert "address:203.0.113.77" not in locked
    async with client_at(area, "2001:db8:1:2:ffff::1") as same_network:
        assert (await sign_in_with_form(same_network, "operator", PASSWORD)).status_code == 429
    async with client_at(area, "2001:db8:1:3::1") as next_network:
        assert (await sign_in_with_form(next_network, "operator", PASSWORD)).status_code == 303
