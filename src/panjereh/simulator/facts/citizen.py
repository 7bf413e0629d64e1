"""Everything the simulated agencies know about one citizen, in one place.

A :class:`Citizen` wraps the civil registry's :class:`Person` and derives each further topic
(education, work, vehicles, ...) on first use from its own stream keyed by (seed, topic,
national code). Topics that depend on others take them from here, so every agency reads the
same facts: the vehicle the police know is the one the oil ministry issued a fuel card for,
the income that rules out welfare support is the wage social security insures.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import cached_property

from panjereh.domain.identifiers import NationalCode
from panjereh.simulator.facts import (
    education,
    elections,
    health,
    justice,
    licences,
    tax,
    telecom,
    welfare,
    work,
)
from panjereh.simulator.facts import vehicles as garage
from panjereh.simulator.facts.draw import AS_OF, add_years, between, rng_for
from panjereh.simulator.facts.places import Residence, draw_residence
from panjereh.simulator.population import Person, Population

_DEATHS_RECORDED_FOR_YEARS = 15


class Citizen:
    """One registered person and the facts every agency holds about them, drawn lazily."""

    def __init__(self, seed: int, person: Person) -> None:
        self.seed = seed
        self.person = person

    def _rng(self, topic: str) -> random.Random:
        return rng_for(self.seed, topic, self.person.national_code)

    @property
    def national_code(self) -> str:
        return self.person.national_code

    @cached_property
    def adult_on(self) -> date:
        """The 18th birthday."""
        return add_years(self.person.birth_date, 18)

    @cached_property
    def died_on(self) -> date | None:
        if self.person.alive:
            return None
        first = max(
            self.person.birth_date + timedelta(days=1),
            add_years(AS_OF, -_DEATHS_RECORDED_FOR_YEARS),
        )
        return between(self._rng("death"), first, AS_OF - timedelta(days=1))

    @property
    def horizon(self) -> date:
        """The last day anything can happen to the person: the day of death, or today."""
        return self.died_on or AS_OF

    @cached_property
    def residence(self) -> Residence:
        return draw_residence(self._rng("residence"), self.person.birth_province)

    @cached_property
    def education(self) -> education.Education:
        return education.draw_education(self._rng("education"), self.person, self.horizon)

    @cached_property
    def disability(self) -> welfare.Disability | None:
        return welfare.draw_disability(self._rng("disability"), self.person, self.horizon)

    @cached_property
    def work(self) -> work.Work:
        severe = self.disability is not None and self.disability.severe
        return work.draw_work(
            self._rng("work"), self.person, self.horizon, self.education, severely_disabled=severe
        )

    @cached_property
    def support(self) -> welfare.Support | None:
        return welfare.draw_support(
            self._rng("welfare"), self.person, self.horizon, self.work, self.disability
        )

    @cached_property
    def coverage(self) -> health.Coverage | None:
        return health.draw_coverage(
            self._rng("health"), self.person, self.horizon, self.work, self.support
        )

    @cached_property
    def tax(self) -> tax.TaxProfile:
        return tax.draw_tax(self._rng("tax"), self.person, self.horizon, self.work)

    @cached_property
    def farm_permit(self) -> licences.Permit | None:
        return licences.draw_farm_permit(self._rng("farm"), self.person, self.horizon, self.work)

    @cached_property
    def craft_permit(self) -> licences.Permit | None:
        return licences.draw_craft_permit(self._rng("craft"), self.person, self.horizon, self.work)

    @cached_property
    def lines(self) -> tuple[telecom.MobileLine, ...]:
        return telecom.draw_lines(self._rng("lines"), self.person, self.horizon)

    @cached_property
    def licences(self) -> tuple[garage.DrivingLicence, ...]:
        return garage.draw_licences(self._rng("driving"), self.person, self.horizon)

    @cached_property
    def vehicles(self) -> tuple[garage.Vehicle, ...]:
        drives = any(x.category is not garage.LicenceCategory.MOTORCYCLE for x in self.licences)
        return garage.draw_vehicles(self._rng("vehicles"), self.person, self.horizon, drives=drives)

    @cached_property
    def fines(self) -> tuple[garage.Fine, ...]:
        return garage.draw_fines(
            self._rng("fines"), self.vehicles, self.horizon, self.residence.city
        )

    @cached_property
    def fuel_cards(self) -> tuple[garage.FuelCard, ...]:
        return garage.draw_fuel_cards(self._rng("fuel"), self.person, self.vehicles, self.horizon)

    @cached_property
    def criminal_record(self) -> justice.CriminalRecord:
        return justice.draw_criminal_record(self._rng("criminal"), self.person, self.horizon)

    @cached_property
    def sana(self) -> justice.SanaAccount | None:
        return justice.draw_sana(
            self._rng("sana"), self.person, self.horizon, self.lines, self.criminal_record
        )

    @cached_property
    def ineligibilities(self) -> tuple[elections.Ineligibility, ...]:
        return elections.ineligibilities(self.person, self.criminal_record)

    @cached_property
    def polling_station(self) -> elections.PollingStation | None:
        if self.ineligibilities:
            return None
        number = self._rng("polling").randrange(1, elections.STATIONS_PER_CITY + 1)
        return elections.polling_station(self.seed, self.residence, number)


class CitizenFacts:
    """The door to the synthetic citizens: a national code in, a :class:`Citizen` out."""

    def __init__(self, population: Population) -> None:
        self.population = population

    def citizen(self, code: NationalCode) -> Citizen | None:
        person = self.population.person(code)
        return None if person is None else Citizen(self.population.seed, person)
