"""The operator area's sign-in defences as a person meets them: two-step sign-in and the lock."""

from __future__ import annotations

import pyotp
import pytest
from playwright.async_api import Page

from tests.browser.conftest import Site
from tests.browser.pages import check_page, open_page, sign_in_operator

pytestmark = pytest.mark.asyncio(loop_scope="session")
# A staff member of the demo per viewport: each turns TOTP on once in the session's app.
ENROLLING = {"desktop": "civil-registry-admin", "phone": "social-security-admin"}


async def test_a_staff_member_turns_on_two_step_sign_in_and_uses_a_recovery_code(
    page: Page, site: Site, viewport: str
) -> None:
    await sign_in_operator(page, site, ENROLLING[viewport])
    await open_page(page, f"{site.url}/operator/security")
    await check_page(page, site, "operator-security-fa", lang="fa", viewport=viewport)
    async with page.expect_navigation():
        await page.click("form[action$='/security/enrol'] button")
    assert await page.locator("figure.op-qr svg").count() == 1
    await check_page(page, site, "operator-totp-enrol-fa", lang="fa", viewport=viewport)
    secret = "".join((await page.locator("code.op-secret").inner_text()).split())
    await page.fill("#code", pyotp.TOTP(secret).now())
    async with page.expect_navigation():
        await page.click("form[action$='/security/confirm'] button")
    codes = [c.strip() for c in await page.locator("ol.op-codes code").all_inner_texts()]
    assert len(codes) == 10
    await check_page(page, site, "operator-totp-recovery-fa", lang="fa", viewport=viewport)

    await page.context.clear_cookies()  # signed out; the password alone is no longer enough
    await open_page(page, f"{site.url}/operator/sign-in")
    await page.fill("#username", ENROLLING[viewport])
    await page.fill("#password", site.passwords[ENROLLING[viewport]])
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert page.url.endswith("/operator/sign-in/code"), page.url
    await check_page(page, site, "operator-sign-in-code-fa", lang="fa", viewport=viewport)
    await page.fill("#code", codes[0])
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert "/sign-in" not in page.url, page.url


@pytest.mark.parametrize(("prefix", "lang"), [("", "fa"), ("/en", "en")])
async def test_a_locked_sign_in_says_when_to_try_again(
    page: Page, site: Site, viewport: str, prefix: str, lang: str
) -> None:
    statuses = []
    for _ in range(6):  # five free failures, then a lock
        await open_page(page, f"{site.url}{prefix}/operator/sign-in")
        await page.fill("#username", f"nobody-{viewport}-{lang}")
        await page.fill("#password", "not the password")
        async with page.expect_navigation() as navigation:
            await page.click("button[type=submit]")
        answer = await navigation.value
        statuses.append(answer.status if answer else None)
    assert statuses == [200] * 5 + [429]
    assert await page.locator("[role=alert]").count() >= 1
    await check_page(page, site, f"operator-sign-in-locked-{lang}", lang=lang, viewport=viewport)


async def test_the_lockouts_page_reads_well(page: Page, site: Site, viewport: str) -> None:
    await sign_in_operator(page, site, "operator")
    await open_page(page, f"{site.url}/operator/lockouts")
    await check_page(page, site, "operator-lockouts-fa", lang="fa", viewport=viewport)
