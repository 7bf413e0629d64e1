"""The error page a browser gets for an unknown address, in Persian and English, desktop and
phone (web/error_pages.py)."""

from __future__ import annotations

import pytest
from playwright.async_api import ConsoleMessage, Page

from tests.browser.conftest import Site
from tests.browser.pages import check_page, open_page

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.mark.parametrize(("prefix", "lang"), [("", "fa"), ("/en", "en")])
async def test_the_not_found_page_reads_well(
    page: Page, site: Site, viewport: str, prefix: str, lang: str
) -> None:
    refused: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", watch)
    answer = await open_page(page, f"{site.url}{prefix}/no/such/page")
    assert answer.status == 404
    assert "default-src 'self'" in (await answer.header_value("content-security-policy") or "")
    await check_page(page, site, f"error-404-{lang}", lang=lang, viewport=viewport)
    home = page.get_by_role("link", name="Panjereh home page" if lang == "en" else "صفحه اصلی")
    assert await home.get_attribute("href") == ("/en/" if lang == "en" else "/")
    assert not refused, refused  # nothing on the page was blocked by the policy
