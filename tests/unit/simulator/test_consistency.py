"""The agencies agree about every citizen: properties over sampled people, asked over HTTP."""

from __future__ import annotations

from datetime import date

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from panjereh.simulator.catalogue import SIMULATED_SERVICES
from panjereh.simulator.facts import Company
from panjereh.simulator.facts.companies import Activity, CompanyStatus
from panjereh.simulator.facts.draw import MINIMUM_WAGE_RIALS, add_years
from panjereh.simulator.facts.elections import NEXT_ELECTION
from panjereh.simulator.population import Person
from tests.unit.simulator.support import JSON, citizens, client, companies

PERSON_SERVICES = [s for s in SIMULATED_SERVICES if s.subject_kind == "national_code"]
sampled = st.sampled_from(citizens())
examples = settings(max_examples=40, deadline=None)


async def ask(http: httpx.AsyncClient, path: str, body: JSON) -> JSON:
    response = await http.post(path, json=body)
    assert response.status_code == 200, response.text
    answer: JSON = response.json()
    return answer


def body_for(path: str, person: Person, mobile: str) -> JSON:
    body: JSON = {"national_code": person.national_code}
    if path.endswith("/mobile-ownership"):
        body["mobile"] = mobile
    return body


async def everything(person: Person, mobile: str = "09121234567") -> dict[str, JSON]:
    """Every person-centred agency's answer about ``person``, by path."""
    async with client() as http:
        return {
            s.path: await ask(http, s.path, body_for(s.path, person, mobile))
            for s in PERSON_SERVICES
        }


def day(text: str) -> date:
    return date.fromisoformat(text)


@examples
@given(person=sampled)
async def test_every_agency_gives_the_civil_registry_name(person: Person) -> None:
    answers = await everything(person)
    for path, answer in answers.items():
        if "first_name" in answer:
            assert (answer["first_name"], answer["last_name"]) == (
                person.first_name,
                person.last_name,
            ), path
    for vehicle in answers["/traffic-police/vehicles"]["vehicles"]:
        assert (vehicle["owner_first_name"], vehicle["owner_last_name"]) == (
            person.first_name,
            person.last_name,
        )


@examples
@given(person=sampled)
async def test_nothing_adult_happens_before_the_18th_birthday(person: Person) -> None:
    answers = await everything(person)
    adult = add_years(person.birth_date, 18)
    starts = [
        *(d["started_on"] for d in answers["/science-ministry/degrees"]["degrees"]),
        *(p["started_on"] for p in answers["/social-security/insurance-history"]["periods"]),
        *(x["first_issued_on"] for x in answers["/traffic-police/driving-licence"]["licences"]),
        *(v["owned_since"] for v in answers["/traffic-police/vehicles"]["vehicles"]),
        *(x["activated_on"] for x in answers["/telecom-regulator/mobile-lines"]["lines"]),
    ]
    diploma = answers["/education-ministry/high-school-diploma"]["diploma"]
    if diploma is not None:
        starts.append(diploma["graduated_on"])
    assert all(day(s) >= adult for s in starts)


@examples
@given(person=sampled)
async def test_degrees_come_after_the_diploma_one_after_another(person: Person) -> None:
    answers = await everything(person)
    degrees = answers["/science-ministry/degrees"]["degrees"]
    diploma = answers["/education-ministry/high-school-diploma"]["diploma"]
    if degrees:
        assert diploma is not None
        previous = day(diploma["graduated_on"])
        for degree in degrees:
            assert previous < day(degree["started_on"]) < day(degree["graduated_on"])
            previous = day(degree["graduated_on"])


@examples
@given(person=sampled)
async def test_the_dead_cannot_vote_and_hold_nothing_active(person: Person) -> None:
    answers = await everything(person)
    vote = answers["/interior-ministry/voter-eligibility"]
    life = answers["/civil-registry/life-status"]
    assert life["alive"] is person.alive
    if person.alive:
        assert "deceased" not in vote["reasons"]
        return
    assert vote["eligible"] is False
    assert "deceased" in vote["reasons"]
    assert answers["/interior-ministry/polling-station"]["assigned"] is False
    assert answers["/social-security/employment-status"]["insured_now"] is False
    assert answers["/health-insurance/coverage"]["covered"] is False
    assert answers["/welfare-organization/support-status"]["under_support"] is False
    assert all(
        x["status"] == "inactive" for x in answers["/telecom-regulator/mobile-lines"]["lines"]
    )
    assert all(
        x["status"] == "cancelled" for x in answers["/traffic-police/driving-licence"]["licences"]
    )
    for period in answers["/social-security/insurance-history"]["periods"]:
        assert day(period["ended_on"]) <= day(life["died_on"])


@examples
@given(person=sampled)
async def test_only_the_living_adult_with_social_rights_may_vote(person: Person) -> None:
    answers = await everything(person)
    vote = answers["/interior-ministry/voter-eligibility"]
    record = answers["/judiciary/criminal-record"]
    deprived = record["deprived_until"] is not None and (
        day(record["deprived_until"]) >= NEXT_ELECTION.held_on
    )
    expected = person.alive and vote["age_on_election_day"] >= 18 and not deprived
    assert vote["eligible"] is expected
    assert answers["/interior-ministry/polling-station"]["assigned"] is expected


@examples
@given(person=sampled, other=sampled)
async def test_a_line_belongs_to_its_owner_and_to_nobody_else(
    person: Person, other: Person
) -> None:
    async with client() as http:
        lines = (
            await ask(
                http, "/telecom-regulator/mobile-lines", {"national_code": person.national_code}
            )
        )["lines"]
        for line in lines:
            for number in (line["mobile"], line["mobile_local"]):
                own = {"national_code": person.national_code, "mobile": number}
                assert (await ask(http, "/telecom-regulator/mobile-ownership", own))["matches"]
            if other.national_code != person.national_code:
                theirs = {"national_code": other.national_code, "mobile": line["mobile"]}
                answer = await ask(http, "/telecom-regulator/mobile-ownership", theirs)
                assert answer["matches"] is False


@examples
@given(person=sampled)
async def test_the_garage_is_the_same_for_police_and_oil_ministry(person: Person) -> None:
    answers = await everything(person)
    plates = [v["plate"] for v in answers["/traffic-police/vehicles"]["vehicles"]]
    assert [c["plate"] for c in answers["/oil-ministry/fuel-quota"]["cards"]] == plates
    for fine in answers["/traffic-police/fines"]["fines"]:
        assert fine["plate"] in plates
    owned = {
        v["plate"]: day(v["owned_since"]) for v in answers["/traffic-police/vehicles"]["vehicles"]
    }
    assert all(
        day(f["occurred_on"]) >= owned[f["plate"]]
        for f in answers["/traffic-police/fines"]["fines"]
    )


@examples
@given(person=sampled)
async def test_income_agencies_agree_on_work_tax_and_welfare(person: Person) -> None:
    answers = await everything(person)
    job = answers["/social-security/employment-status"]
    tax = answers["/tax-administration/taxpayer-status"]
    support = answers["/welfare-organization/support-status"]
    cover = answers["/health-insurance/coverage"]
    assert ("salary" in tax["income_sources"]) is job["employed"]
    assert ("pension" in tax["income_sources"]) is job["retired"]
    wage = job["insured_monthly_wage_rials"] or 0
    if wage > 2 * MINIMUM_WAGE_RIALS:
        assert support["case"] is None
    if job["insured_now"]:
        assert cover["coverage"]["insurer"] == "social-security"
    if answers["/agriculture-ministry/farmer-licence"]["has_licence"]:
        assert not answers["/cultural-heritage-ministry/handicraft-licence"]["has_licence"]


@examples
@given(person=sampled)
async def test_sana_is_registered_with_one_of_the_persons_own_lines(person: Person) -> None:
    answers = await everything(person)
    sana = answers["/judiciary/sana-registration"]
    masked = {
        f"{x['mobile_local'][:4]}***{x['mobile_local'][-4:]}"
        for x in answers["/telecom-regulator/mobile-lines"]["lines"]
    }
    if sana["registered"]:
        assert sana["mobile_masked"] in masked


@settings(max_examples=15, deadline=None)
@given(company=st.sampled_from(companies()))
async def test_company_officers_are_registered_adult_citizens(company: Company) -> None:
    legal = {"legal_id": company.legal_id}
    async with client() as http:
        officers = (await ask(http, "/companies-registry/officers", legal))["officers"]
        tax = await ask(http, "/tax-administration/legal-entity-tax-status", legal)
        tourism = await ask(http, "/cultural-heritage-ministry/tourism-licence", legal)
        people = [
            await ask(http, "/civil-registry/person", {"national_code": o["national_code"]})
            for o in officers
        ]
    for officer, person in zip(officers, people, strict=True):
        assert (person["first_name"], person["last_name"]) == (
            officer["first_name"],
            officer["last_name"],
        )
        assert add_years(day(person["birth_date"]), 18) <= day(officer["term_start"])
    roles = [o["role"] for o in officers]
    assert roles.count("ceo") == roles.count("chair") == 1
    assert (tax["file_status"] == "closed") is (company.status is CompanyStatus.DISSOLVED)
    assert tourism["has_licence"] is (company.activity is Activity.TOURISM)


async def test_every_dead_citizen_in_a_large_sample_is_barred_from_voting() -> None:
    dead = [p for p in citizens(3000) if not p.alive]
    assert len(dead) >= 20
    async with client() as http:
        for person in dead:
            body = {"national_code": person.national_code}
            vote = await ask(http, "/interior-ministry/voter-eligibility", body)
            cover = await ask(http, "/health-insurance/coverage", body)
            job = await ask(http, "/social-security/employment-status", body)
            assert vote["eligible"] is False
            assert cover["covered"] is False
            assert job["insured_now"] is False
