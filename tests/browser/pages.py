"""What every page must pass when a person looks at it, at a desktop's width and a phone's.

- it answered 200 and says its language and direction (``lang``, and ``dir="rtl"`` in Persian);
- its text is set in Vazirmatn, the font it ships (no fallback font at the person's end);
- nothing is wider than the window: no sideways scroll on a phone;
- axe-core finds no accessibility violation of serious or critical impact;
- a full-page screenshot is kept (docs/screenshots when ``make screenshots`` runs).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, Response

from tests.browser.conftest import Site

SERIOUS = ("serious", "critical")


class TooWide(AssertionError):
    """The page is wider than the window (sideways scroll)."""


_AXE = Axe()


async def open_page(page: Page, url: str) -> Response:
    answer = await page.goto(url, wait_until="networkidle")
    assert answer is not None, url
    return answer


async def check_page(page: Page, site: Site, name: str, *, lang: str, viewport: str) -> None:
    """The checks of the module docstring on the page ``page`` shows now."""
    assert await page.evaluate("document.documentElement.lang") == lang
    direction = await page.evaluate("getComputedStyle(document.body).direction")
    assert direction == ("rtl" if lang == "fa" else "ltr")
    await page.evaluate("document.fonts.ready.then(() => true)")
    assert await page.evaluate("document.fonts.check('16px Vazirmatn', 'سلام')"), (
        "Vazirmatn not loaded"
    )
    assert await _used_fonts(page) <= {"Vazirmatn"}, await _used_fonts(page)
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        raise TooWide(f"{name}: {overflow}px wider than the {viewport} window: {await _wide(page)}")
    violations = [
        v for v in (await _AXE.run(page)).response["violations"] if v["impact"] in SERIOUS
    ]
    assert not violations, _describe(violations)
    suffix = "" if viewport == "desktop" else f"-{viewport}"
    await page.screenshot(path=site.screenshots / f"{name}{suffix}.png", full_page=True)


GROUPED = {
    "fa": re.compile(r"[۱-۹][۰-۹]{0,2}(?:\u066c[۰-۹]{3})+"),
    "en": re.compile(r"[1-9]\d{0,2}(?:,\d{3})+"),
}
UNGROUPED = {"fa": re.compile(r"[۰-۹]{4}|[۰-۹][,،][۰-۹]"), "en": re.compile(r"\d{4}")}


async def assert_grouped(page: Page, selector: str, lang: str) -> str:
    """The text of ``selector`` holds a count of thousands written as the language writes it
    (۱٬۲۸۰ with U+066C in Persian, 1,280 in English) and no count left ungrouped."""
    text = await page.locator(selector).first.inner_text()
    assert GROUPED[lang].search(text), text
    assert not UNGROUPED[lang].search(text), text
    return text


async def _wide(page: Page) -> list[str]:
    """The elements that stick out of the window (what to fix)."""
    found: list[str] = await page.evaluate(
        """(() => {
          const width = document.documentElement.clientWidth, out = [];
          for (const e of document.querySelectorAll('body *')) {
            const box = e.getBoundingClientRect();
            if (box.right > width + 0.5 || box.left < -0.5)
              out.push(`${e.tagName.toLowerCase()}.${e.className} `
                       + `${Math.round(box.left)}..${Math.round(box.right)}`);
          }
          return out.slice(0, 8);
        })()"""
    )
    return found


async def _used_fonts(page: Page) -> set[str]:
    families: list[str] = await page.evaluate(
        """[...document.querySelectorAll('body *')]
             .filter(e => e.childNodes.length && [...e.childNodes].some(
                 n => n.nodeType === 3 && n.textContent.trim()))
             .map(e => getComputedStyle(e).fontFamily.split(',')[0].replace(/["']/g, '').trim())"""
    )
    return set(families) - {"monospace", "ui-monospace"}


def _describe(violations: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    )


async def sign_in_operator(page: Page, site: Site, username: str, *, prefix: str = "") -> None:
    await open_page(page, f"{site.url}{prefix}/operator/sign-in")
    await page.fill("#username", username)
    await page.fill("#password", site.passwords[username])
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert "/sign-in" not in page.url, page.url


async def sign_in_citizen(page: Page, site: Site, national_code: str, *, prefix: str = "") -> None:
    """The development sign-in (`/dev/sign-in`), as a citizen would use it today."""
    await open_page(page, f"{site.url}{prefix}/dev/sign-in")
    await page.fill("#national_code", national_code)
    async with page.expect_navigation():
        await page.click("button[type=submit]")


async def make_inquiry(
    site: Site, national_code: str, *, purpose: str = "benefit-eligibility", expect: int = 200
) -> None:
    """One inquiry by the demo's benefits system, so the citizen has something to see."""
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(
            f"{site.url}/exchange/v1/services/civil-registry.person.v1",
            headers={
                "Authorization": f"ApiKey {site.api_keys['social-security/benefits']}",
                "X-Purpose": purpose,
            },
            json={"national_code": national_code},
        )
    assert answer.status_code == expect, answer.text
