"""The operator area writes each page in its own language (issue 26): no Persian punctuation
on English pages, registered names (purposes, systems) in the page's language, numbers with
the language's own separators."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.integration.api.test_record_purposes import PHISHING, REGISTERED_ID, write_purposes
from tests.integration.operator.conftest import OperatorArea
from tests.integration.operator.test_pages import PAGES

PERSIAN_PUNCTUATION = "،؛؟"  # comma, semicolon, question mark
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _EnglishText(HTMLParser):
    """The page's text less what is marked as Persian (``lang="fa"``: a Persian name shown
    on purpose, such as an agency's registered Persian name)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is it (inside) Persian?
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        inside = bool(self.stack and self.stack[-1])
        self.stack.append(inside or dict(attrs).get("lang") == "fa")

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def english_text(html: str) -> str:
    parser = _EnglishText()
    parser.feed(html)
    return " ".join(parser.parts)


@pytest.mark.parametrize("persona", ["owner", "operator"])
async def test_english_pages_use_no_persian_punctuation(area: OperatorArea, persona: str) -> None:
    for path in [*PAGES, "/agencies/civil-registry", "/agencies/social-security"]:
        answer = await area.get(persona, f"/en/operator{path}")
        assert answer.status_code == 200, answer.text
        text = english_text(answer.text)
        found = [c for c in PERSIAN_PUNCTUATION if c in text]
        assert not found, (path, found, text[text.find(found[0]) - 60 :][:120] if found else "")


async def test_an_english_system_lists_its_roles_with_an_english_comma(area: OperatorArea) -> None:
    answer = await area.get("operator", "/en/operator/agencies/science-ministry")
    assert "Roles: Consumer, Provider" in answer.text
    persian = await area.get("operator", "/operator/agencies/science-ministry")
    assert "مصرف‌کننده، ارائه‌دهنده" in persian.text


@pytest.mark.parametrize(
    ("prefix", "name"),
    [("/operator", "بررسی استحقاق مزایا"), ("/en/operator", "Benefit eligibility")],
)
async def test_a_registered_purpose_is_shown_by_its_name_in_the_pages_language(
    area: OperatorArea, prefix: str, name: str
) -> None:
    await write_purposes(area.app)
    listing = await area.get("auditor", f"{prefix}/audit")
    one = await area.get("auditor", f"{prefix}/audit/records/{REGISTERED_ID}")
    for answer in (listing, one):
        assert answer.status_code == 200, answer.text
        assert name in answer.text  # the registered name
        assert (
            'title="benefit-eligibility"' in answer.text or ">benefit-eligibility<" in answer.text
        )
    assert PHISHING in listing.text  # an unregistered one stays as declared


async def test_persian_pages_name_a_system_by_its_agency_and_code_never_its_english_name(
    area: OperatorArea,
) -> None:
    await write_purposes(area.app)  # records of social-security/benefits
    english_name = "Degree registry"  # science-ministry/degrees: systems have one name
    fa = await area.get("operator", "/operator/agencies/science-ministry")
    en = await area.get("operator", "/en/operator/agencies/science-ministry")
    assert english_name not in english_text_of_persian(fa.text)
    assert english_name in en.text
    audit_fa = await area.get("auditor", "/operator/audit")
    assert "سازمان تأمین اجتماعی — benefits" in audit_fa.text  # in the system filter
    assert (
        "Social Security Organization — " in (await area.get("auditor", "/en/operator/audit")).text
    )


def english_text_of_persian(html: str) -> str:
    """A Persian page's text less what it marks as English (``lang="en"``)."""
    return english_text(html.replace('lang="en"', 'lang="fa"'))
