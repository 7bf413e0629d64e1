"""The portal's home page: Persian RTL first, English at /en/, fonts served locally."""

from __future__ import annotations

import re

import pytest

from panjereh.domain.text import number_text
from tests.integration.conftest import Live


async def test_the_persian_home_page_is_rtl_and_lists_the_services(live: Live) -> None:
    response = await live.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="fa" dir="rtl">' in html
    assert "استعلام مشخصات هویتی فرد" in html  # the service's Persian name
    assert "سازمان ثبت احوال کشور" in html  # its agency
    assert "civil-registry.person.v1" in html
    count = len([s for s in live.app.runtime.registry.current.services.values() if s.is_callable])
    shown = number_text(count, "fa")  # Persian digits, «٬» between thousands
    assert f"({shown} خدمت قابل استعلام: فعال یا رو به کنارگذاری)" in html
    assert re.search(r"<time>[۰-۹]+ [آ-ی]+ ۱۴[۰-۹]{2}</time>", html), "Jalali date in Persian"
    assert 'href="/en/"' in html


async def test_the_search_normalizes_arabic_letters_and_digits(live: Live) -> None:
    # «هويتي» typed with Arabic yeh finds «استعلام مشخصات هویتی فرد»
    response = await live.client.get("/", params={"q": "مشخصات هويتي"})
    assert response.status_code == 200
    assert "استعلام مشخصات هویتی فرد" in response.text
    assert "خدمات یافته‌شده: ۱" in response.text
    nothing = await live.client.get("/en/", params={"q": "no such service anywhere"})
    assert "Services found: 0" in nothing.text
    assert "Person identity inquiry" not in nothing.text


async def test_the_english_home_page_is_ltr(live: Live) -> None:
    response = await live.client.get("/en/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="en" dir="ltr">' in html
    assert "Person identity inquiry" in html
    assert "National Organization for Civil Registration" in html
    assert "استعلام مشخصات هویتی فرد" not in html


async def test_the_font_and_stylesheet_are_served_locally(live: Live) -> None:
    css = await live.client.get("/static/portal.css")
    assert css.status_code == 200
    assert "https://" not in css.text
    font = await live.client.get("/static/fonts/Vazirmatn-Regular.woff2")
    assert font.status_code == 200
    assert font.content[:4] == b"wOF2"


async def test_an_unknown_page_is_a_problem_not_a_trace(live: Live) -> None:
    response = await live.client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json()["code"] == "not-found"
    assert "Traceback" not in response.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_60k_search_is_not_echoed_into_the_page(live: Live) -> None:
    response = await live.client.get("/en/", params={"q": "a" * 60_000})
    assert response.status_code == 200
    assert "a" * 201 not in response.text
    assert len(response.content) < 200_000
