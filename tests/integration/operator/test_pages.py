"""Every page of the operator area for every persona: what each one sees, and refusals that
tell a stranger nothing.  Personas (`tests.integration.api.conftest.PERSONAS`): the owner
(civil-registry's admin, the provider), the consumer (social-security's admin, holding a
grant), a stranger (science-ministry's admin), an auditor and an operator."""

from __future__ import annotations

import re

import pytest

from panjereh.web.security_headers import CSP
from tests.integration.operator.conftest import OperatorArea

EVERYONE = ["owner", "consumer", "stranger", "auditor", "operator"]
PAGES = [
    "/",
    "/agencies",
    "/agencies?q=civil",
    "/agencies/civil-registry",
    "/agencies/science-ministry",
    "/services",
    "/services?agency=civil-registry&status=active&page=2",
    "/services/civil-registry.person.v1",
    "/grants",
    "/grants?status=pending",
]
SEES_PRIVATE = {"owner": True, "consumer": False, "stranger": False, "auditor": True}
SEES_PRIVATE["operator"] = True


def forms(html: str) -> list[str]:
    """The actions of the page's change forms (the sign-out form left out)."""
    found = re.findall(r'<form method="post" action="([^"]+)"', html)
    return [a for a in found if not a.endswith("/sign-out")]


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_opens_for_every_signed_in_persona_in_both_languages(
    area: OperatorArea, path: str
) -> None:
    for persona in EVERYONE:
        for prefix in ("/operator", "/en/operator"):
            answer = await area.get(persona, prefix + path)
            assert answer.status_code == 200, (persona, prefix, answer.text)
            assert answer.headers["content-type"] == "text/html; charset=utf-8"
            assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", [p for p in PAGES if "?" not in p])
async def test_every_page_sends_an_anonymous_visitor_to_sign_in(
    area: OperatorArea, path: str
) -> None:
    answer = await area.get("nobody", "/operator" + path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/operator/sign-in?next=%2Foperator%2F")
    assert "csrf" not in answer.text


@pytest.mark.parametrize("persona", EVERYONE)
async def test_an_agencys_systems_and_key_prefixes_are_shown_only_to_who_may_see_them(
    area: OperatorArea, persona: str
) -> None:
    page = (await area.get(persona, "/en/operator/agencies/civil-registry")).text
    private = SEES_PRIVATE[persona]
    assert ("civil-registry/population-registry" in page) is private
    assert (area.key_prefix in page) is private
    assert ("are shown only to that agency" in page) is not private
    assert "National Organization for Civil Registration" in page  # the public facts


@pytest.mark.parametrize("persona", EVERYONE)
async def test_a_services_provider_system_and_endpoint_are_private_too(
    area: OperatorArea, persona: str
) -> None:
    page = (await area.get(persona, "/en/operator/services/civil-registry.person.v1")).text
    private = SEES_PRIVATE[persona]
    assert ("https://api.civil-registry.example/person" in page) is private
    assert ("population-registry" in page) is private
    assert "&#34;type&#34;: &#34;object&#34;" in page  # the schemas are public


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("owner", {"social-security/benefits", "welfare-organization/clients"}),
        ("consumer", {"social-security/benefits"}),
        ("stranger", set()),
        ("auditor", {"social-security/benefits", "welfare-organization/clients"}),
        ("operator", {"social-security/benefits", "welfare-organization/clients"}),
    ],
)
@pytest.mark.parametrize("path", ["/grants", "/services/civil-registry.person.v1"])
async def test_grants_are_listed_only_to_their_parties(
    area: OperatorArea, persona: str, visible: set[str], path: str
) -> None:
    page = (await area.get(persona, "/en/operator" + path)).text
    consumers = {"social-security/benefits", "welfare-organization/clients"}
    shown = {c for c in consumers if c.replace("/", "/<wbr>") in page}
    assert shown == visible
    if not visible:
        assert "No grant to show." in page
        assert "Check applicants" not in page  # nor a justification


@pytest.mark.parametrize(
    ("persona", "systems", "grants", "pending"),
    [
        ("owner", 1, 2, 1),
        ("consumer", 1, 1, 0),
        ("stranger", 1, 0, 0),
        ("auditor", 4, 2, 1),
        ("operator", 4, 2, 1),
    ],
)
async def test_the_dashboard_counts_only_what_the_persona_may_see(
    area: OperatorArea, persona: str, systems: int, grants: int, pending: int
) -> None:
    page = (await area.get(persona, "/en/operator/")).text
    figures = re.findall(r'<span class="op-figure">([^<]+)</span>', page)
    assert figures == ["4", str(systems), "1", str(grants), str(pending)]


@pytest.mark.parametrize(
    ("persona", "actions"),
    [
        ("owner", ["approve", "reject", "revoke"]),
        ("consumer", ["revoke"]),
        ("stranger", []),
        ("auditor", []),
        ("operator", ["revoke", "approve", "reject"]),
    ],
)
async def test_each_persona_gets_only_the_buttons_it_may_press(
    area: OperatorArea, persona: str, actions: list[str]
) -> None:
    grants = forms((await area.get(persona, "/operator/grants")).text)
    assert sorted(a.rsplit("/", 1)[1] for a in grants) == sorted(actions)
    agency = forms((await area.get(persona, "/operator/agencies/civil-registry")).text)
    if persona == "operator":
        assert agency == [
            "/operator/agencies/civil-registry/suspend",
            "/operator/systems/civil-registry/population-registry/suspend",
        ]
    else:
        assert agency == []


@pytest.mark.parametrize("persona", EVERYONE)
@pytest.mark.parametrize(
    "path", ["/agencies/no-such-agency", "/services/no-such.service.v1", "/no/such/page"]
)
async def test_what_does_not_exist_is_the_areas_own_404_page(
    area: OperatorArea, persona: str, path: str
) -> None:
    answer = await area.get(persona, "/en/operator" + path)
    assert answer.status_code == 404
    assert "<h1>Not found</h1>" in answer.text
    assert answer.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    "path",
    ["/operator/", "/en/operator/agencies", "/operator/sign-in", "/operator/agencies/nope"],
)
async def test_every_answer_carries_the_security_headers(area: OperatorArea, path: str) -> None:
    persona = "nobody" if path.endswith("sign-in") else "operator"
    headers = (await area.get(persona, path)).headers
    assert headers["content-security-policy"] == CSP
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


async def test_redirects_carry_the_security_headers_too(area: OperatorArea) -> None:
    headers = (await area.get("nobody", "/operator/grants")).headers
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"


async def test_no_page_has_inline_script_or_style(area: OperatorArea) -> None:
    for path in PAGES:
        page = (await area.get("operator", "/operator" + path)).text
        assert "<script" not in page
        assert "style=" not in page
        assert "<style" not in page


@pytest.mark.parametrize(
    ("prefix", "lang", "direction", "now", "created"),
    [
        ("/operator", "fa", "rtl", "۱۴۰۵/۰۹/۰۷ ۱۵:۳۰", "۱۴۰۵/۰۹/۰۷ ۱۵:۳۰"),
        ("/en/operator", "en", "ltr", "1405/09/07 15:30", "1405/09/07 15:30"),
    ],
)
async def test_both_languages_render_with_their_direction_and_jalali_dates(
    area: OperatorArea, prefix: str, lang: str, direction: str, now: str, created: str
) -> None:
    page = (await area.get("owner", f"{prefix}/agencies/civil-registry")).text
    assert f'<html lang="{lang}" dir="{direction}">' in page
    assert f'<time datetime="2026-11-28T12:00:00+00:00">{now}</time>' in page
    assert f"<td>{created}</td>" in page  # the API key's creation, in Tehran time
    other = "/en/operator" if lang == "fa" else "/operator"
    assert f'href="{other}/agencies/civil-registry"' in page  # the language switch


async def test_persian_pages_write_numbers_in_persian_digits(area: OperatorArea) -> None:
    page = (await area.get("operator", "/operator/")).text
    figures = re.findall(r'<span class="op-figure">([^<]+)</span>', page)
    assert figures == ["۴", "۴", "۱", "۲", "۱"]
    assert "ثبت احوال کشور" in page


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("بهزيستي", ["welfare-organization"]),  # Arabic yeh
        ("كشور", ["civil-registry", "welfare-organization"]),  # Arabic kaf
        ("تأمین اجتماعی", ["social-security"]),
        ("CIVIL", ["civil-registry"]),
        ("ثبت\u200cاحوال", []),  # a half-space is not a space
        ("%", []),  # LIKE wildcards are text
        ("_", []),
    ],
)
async def test_agency_search_normalizes_persian_text(
    area: OperatorArea, query: str, found: list[str]
) -> None:
    page = (await area.get("stranger", "/operator/agencies", params={"q": query})).text
    codes = re.findall(r'<a href="/operator/agencies/([a-z-]+)"><code', page)
    assert codes == found


@pytest.mark.parametrize("query", ["person.v۱", "person.v١", "استعلام فرد", "PERSON"])
async def test_service_search_normalizes_digits_and_letters(area: OperatorArea, query: str) -> None:
    page = (await area.get("stranger", "/operator/services", params={"q": query})).text
    assert re.findall(r'<a href="/operator/services/([a-z0-9.-]+)">', page) == [
        "civil-registry.person.v1"
    ]
    assert "یافته‌ها: ۱" in page


async def test_a_search_that_finds_nothing_says_so(area: OperatorArea) -> None:
    page = (await area.get("owner", "/en/operator/services", params={"q": "zzz"})).text
    assert "Found: 0" in page
    assert "Nothing found." in page


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_60k_query_is_echoed_neither_into_the_page_nor_the_way_back(
    area: OperatorArea,
) -> None:
    query = {"q": "a" * 60_000, "page": "2"}
    for page in ("/en/operator/services", "/en/operator/agencies"):
        response = await area.get("operator", page, params=query)
        assert response.status_code == 200
        assert "a" * 201 not in response.text  # the search box, language and paging links
    for page in ("/en/operator/services", "/me/inquiries"):  # not signed in: sign in first
        response = await area.get("nobody", page, params=query)
        assert response.status_code in (302, 303)
        assert len(response.headers["location"]) < 500
        assert "page%3D2" in response.headers["location"]
