"""Browser tests: Debian's Chromium driven by Playwright against one served app per session.

The app is what `make run` serves (migrated, the demo seeded, `panjereh serve` on a free port),
started once; every test opens its own browser context (cookies of its own) at a desktop or a
phone's width.  Chromium is the Debian package (`.ci/run` installs it), never a browser
downloaded by Playwright.  Screenshots go to ``PANJEREH_SCREENSHOTS`` when set (`make
screenshots` sets it to docs/screenshots), else to the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright

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
    env = demo_environment(folder / "var")
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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("PANJEREH_TEST_BROWSER") == "required":
            pytest.fail("chromium is not installed (.ci/run installs Debian's package)")
        pytest.skip("chromium is not installed: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(params=["desktop", "phone"])
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def context(browser: Browser, viewport: str) -> Iterator[BrowserContext]:
    size = DESKTOP if viewport == "desktop" else PHONE
    made = browser.new_context(
        viewport=size, is_mobile=viewport == "phone", has_touch=viewport == "phone"
    )
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
