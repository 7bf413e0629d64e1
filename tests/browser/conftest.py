"""Browser tests: Debian's Chromium driven by Playwright against one served app per session.

The tests use Playwright's async API on the session's event loop (``loop_scope="session"``):
its sync API leaves an event loop running in the thread, which breaks every asyncio test
that runs after it in the same process.  The app is what `make run` serves (migrated, the
demo seeded, `panjereh serve` on a free port), started once; every test opens its own browser
context (cookies of its own) at a desktop's or a phone's width.  Chromium is the Debian
package (`.ci/run` installs it), never a browser downloaded by Playwright.  Screenshots go to
``PANJEREH_SCREENSHOTS`` when set (`make screenshots` sets it to docs/screenshots), else to
the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright

from tests.served import demo_environment, run_panjereh, serving

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=390, height=844)


@dataclass(frozen=True)
class Site:
    url: str
    passwords: dict[str, str]  # demo user name -> password
    api_keys: dict[str, str]  # demo system -> API key
    screenshots: Path


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo government served once for the whole browser session."""
    folder = tmp_path_factory.mktemp("browser")
    # Each browser context says who it is in X-Forwarded-For (a 10.x address of its own), so
    # one test's failed sign-ins never lock another's address in the shared sign-in throttle.
    env = demo_environment(folder / "var") | {"PANJEREH_TRUSTED_FORWARDERS": "127.0.0.1"}
    assert run_panjereh(["db", "upgrade"], env).returncode == 0
    seeded = run_panjereh(["demo", "--json"], env)
    assert seeded.returncode == 0, seeded.stderr
    output = json.loads(seeded.stdout)
    shots = Path(os.environ.get("PANJEREH_SCREENSHOTS") or folder / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with serving(env, folder / "serve.log") as url:
        yield Site(
            url=url,
            passwords={u["username"]: u["password"] for u in output["users"]},
            api_keys={c["system"]: c["api_key"] for c in output["credentials"]},
            screenshots=shots,
        )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("PANJEREH_TEST_BROWSER") == "required":
            pytest.fail("chromium is not installed (.ci/run installs Debian's package)")
        pytest.skip("chromium is not installed: apt-get install -y chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(params=["desktop", "phone"])
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Browser, viewport: str) -> AsyncIterator[BrowserContext]:
    size = DESKTOP if viewport == "desktop" else PHONE
    phone = viewport == "phone"
    address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
    made = await browser.new_context(
        viewport=size,
        is_mobile=phone,
        has_touch=phone,
        extra_http_headers={"X-Forwarded-For": address},
    )
    try:
        yield made
    finally:
        await made.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: BrowserContext) -> Page:
    return await context.new_page()
