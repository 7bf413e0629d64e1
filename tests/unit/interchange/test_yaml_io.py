"""Reading registry documents: every problem named with its line and field."""

from __future__ import annotations

import pytest

from panjereh.interchange.yaml_io import DocumentError, dump_document, parse_document

VALID = """\
purposes:
  - code: benefit-eligibility
    name_fa: بررسی استحقاق مزایا
    name_en: Benefit eligibility
agencies:
  - code: civil-registry
    legal_id: "14000267544"
    name_fa: سازمان ثبت احوال كشور
    name_en: National Organization for Civil Registration
    kind: organization
  - code: social-security
    legal_id: "14000398452"
    name_fa: سازمان تأمین اجتماعی
    name_en: Social Security Organization
    kind: organization
systems:
  - agency: civil-registry
    code: population-registry
    name: Population registry
    roles: [provider]
  - agency: social-security
    code: benefits
    name: Benefits
    roles: [consumer]
services:
  - id: civil-registry.person.v1
    provider: civil-registry/population-registry
    name_fa: استعلام فرد
    name_en: Person inquiry
    endpoint_url: https://api.civil-registry.example/person
    request_schema: {type: object}
    response_schema: {type: object}
    subject: {pointer: /national_code, kind: national_code}
grants:
  - consumer: social-security/benefits
    service: civil-registry.person.v1
    purposes: [benefit-eligibility]
citizen_services:
  - id: civil-registry.birth-certificate
    agency: civil-registry
    title_fa: صدور شناسنامه
    title_en: Birth certificate
    category: identity
    delivery: electronic
    inquiries: [civil-registry.person.v1]
"""


def problems_of(text: str, *, allow_private: bool = False) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        parse_document(text, allow_private=allow_private)
    return [str(p) for p in caught.value.problems]


def test_it_reads_a_valid_document_and_normalizes_persian_names() -> None:
    document = parse_document(VALID, allow_private=False)
    assert document.agencies[0].name_fa == "سازمان ثبت احوال کشور"  # Arabic kaf -> Persian
    assert document.grants[0].purposes == ["benefit-eligibility"]
    assert document.problems() == []


def test_what_it_writes_it_reads_back_unchanged() -> None:
    document = parse_document(VALID, allow_private=False)
    text = dump_document(document)
    assert parse_document(text, allow_private=False) == document
    assert dump_document(parse_document(text, allow_private=False)) == text


def test_a_yaml_syntax_error_names_its_line() -> None:
    assert problems_of("agencies:\n  - code: [unclosed\n") == [
        "line 3, document: not valid YAML: expected ',' or ']', but got '<stream end>'"
    ]


def test_a_field_error_names_line_and_field() -> None:
    text = VALID.replace('legal_id: "14000398452"', 'legal_id: "14000398456"')
    assert problems_of(text) == [
        "line 12, agencies[1].legal_id: The legal-entity ID's check digit is wrong. "
        "Please check the number."
    ]


def test_a_loopback_endpoint_is_refused_unless_development_allows_it() -> None:
    text = VALID.replace("https://api.civil-registry.example/person", "http://127.0.0.1:8000/x")
    found = problems_of(text)
    assert len(found) == 1
    assert found[0].startswith("line 30, services[0].endpoint_url:")
    assert "private" in found[0]
    assert (
        parse_document(text, allow_private=True).services[0].endpoint_url.startswith("http://127")
    )


def test_a_metadata_endpoint_is_refused_even_in_development() -> None:
    text = VALID.replace("https://api.civil-registry.example/person", "http://169.254.169.254/x")
    for allow_private in (False, True):
        found = problems_of(text, allow_private=allow_private)
        assert len(found) == 1
        assert found[0].startswith("line 30, services[0].endpoint_url:")
        assert "metadata" in found[0]


def test_broken_references_are_all_reported_with_their_lines() -> None:
    text = VALID.replace("service: civil-registry.person.v1", "service: civil-registry.nobody.v1")
    text = text.replace("purposes: [benefit-eligibility]", "purposes: [spying]")
    assert problems_of(text) == [
        "line 36, grants[0].service: no service 'civil-registry.nobody.v1'",
        "line 37, grants[0].purposes[0]: no purpose 'spying'",
    ]


def test_unknown_fields_and_wrong_types_are_refused() -> None:
    text = VALID.replace(
        "    kind: organization\n  - code: social",
        "    kind: organization\n    colour: red\n  - code: social",
    )
    assert any("agencies[0].colour" in p and "Extra inputs" in p for p in problems_of(text))


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text"])
def test_a_document_that_is_not_a_mapping_is_refused(text: str) -> None:
    assert problems_of(text) == ["line 1, document: the document must be a mapping of sections"]


def test_a_service_must_belong_to_its_providers_agency() -> None:
    text = (
        VALID.replace("id: civil-registry.person.v1", "id: social-security.person.v1")
        .replace("service: civil-registry.person.v1", "service: social-security.person.v1")
        .replace("inquiries: [civil-registry.person.v1]", "inquiries: []")
    )
    assert problems_of(text) == [
        "line 26, services[0].id: a service id starts with its provider's agency code"
    ]
