"""Which answers a request gets: the friendly page or problem+json (web/error_pages.py)."""

from __future__ import annotations

import pytest

from panjereh.web.error_pages import locale_of, prefers_html


@pytest.mark.parametrize(
    "accept",
    [
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # Chromium, Firefox
        "text/html",
        "application/xhtml+xml",
        "text/html;q=0.9, application/json;q=0.5",
        "TEXT/HTML",
    ],
)
def test_a_browser_prefers_html(accept: str) -> None:
    assert prefers_html(accept)


@pytest.mark.parametrize(
    "accept",
    [
        "",
        "*/*",
        "application/json",
        "application/problem+json",
        "application/json, text/html;q=0.5",
        "text/html;q=0",
        "text/html;q=nonsense",
        "text/*",
    ],
)
def test_api_clients_and_vague_accepts_do_not(accept: str) -> None:
    assert not prefers_html(accept)


def test_the_language_comes_from_the_path() -> None:
    assert locale_of("/en/no/such").lang == "en"
    assert locale_of("/en").lang == "en"
    assert locale_of("/english").lang == "fa"
    assert locale_of("/operator/x").lang == "fa"
