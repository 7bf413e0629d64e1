"""The development citizen sign-in behind the platform's throttle, keyed by the national code
and the client address (the pattern the portal's real sign-in reuses)."""

from __future__ import annotations

import httpx

from panjereh.domain.events import EventOutcome
from panjereh.domain.identifiers import NationalCode
from panjereh.domain.throttle import OBJECT_TYPE
from panjereh.storage.events_repo import events_for
from panjereh.web.sign_in_throttle import national_code_key
from tests.integration.citizen.conftest import CITIZEN, OTHER, CitizenWorld, dev_sign_in
from tests.integration.operator.conftest import BASE_URL

REASON = "portal development sign-in"


def browser_at(world: CitizenWorld, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=world.app, client=(address, 40000))
    client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
    world.clients.append(client)
    return client


async def test_bad_codes_from_one_address_lock_it_even_for_a_valid_code(
    world: CitizenWorld,
) -> None:
    browser = browser_at(world, "198.51.100.20")
    statuses = [(await dev_sign_in(browser, "0013542418")).status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]
    refused = await dev_sign_in(browser, CITIZEN)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert "تلاش‌های ناموفق زیاد بوده است. لطفاً ۱ ثانیه دیگر" in refused.text
    assert world.app.runtime.subject_keys.hash(CITIZEN) not in refused.text
    assert not any(name.startswith("panjereh-citizen") for name in browser.cookies)
    elsewhere = browser_at(world, "198.51.100.21")
    assert (await dev_sign_in(elsewhere, CITIZEN)).status_code == 303
    async with world.engine.connect() as conn:
        events = await events_for(conn, OBJECT_TYPE, "address:198.51.100.20")
    assert [(e.action, e.outcome, e.reason) for e in events] == [
        ("sign-in-throttle.lock", EventOutcome.REFUSED, REASON),
        ("sign-in-throttle.refuse", EventOutcome.REFUSED, REASON),
    ]


async def test_a_locked_national_code_is_refused_from_any_address_and_never_named(
    world: CitizenWorld,
) -> None:
    runtime = world.app.runtime
    key = national_code_key(runtime, NationalCode.parse(OTHER))
    for _ in range(6):  # as the portal's real sign-in will count a wrong one-time code
        await runtime.throttle.fail([key], runtime.clock.now(), "portal sign-in")
    refused = await dev_sign_in(browser_at(world, "198.51.100.30"), OTHER, prefix="/en")
    assert refused.status_code == 429
    assert "Please try again in 1 second (after 1405/09/11 12:35:01)" in refused.text
    async with world.engine.connect() as conn:
        events = await events_for(conn, OBJECT_TYPE, f"national-code:{world.other_hash}")
    assert [e.action for e in events] == ["sign-in-throttle.lock", "sign-in-throttle.refuse"]
    assert all(OTHER not in str(e) for e in events)
    world.clock.advance(1)
    assert (await dev_sign_in(browser_at(world, "198.51.100.30"), OTHER)).status_code == 303
