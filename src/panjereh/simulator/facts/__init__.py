"""The synthetic world the simulated agencies serve from: citizens, companies and their records.

Every fact derives from the seed and the subject's identifier, each topic from its own seeded
stream (:mod:`draw`); :class:`Citizen` and :class:`Companies` are the only doors in, so all
agencies read the same facts.
"""

from __future__ import annotations

from panjereh.simulator.facts.citizen import Citizen, CitizenFacts
from panjereh.simulator.facts.companies import Companies, Company
from panjereh.simulator.facts.draw import AS_OF

__all__ = ["AS_OF", "Citizen", "CitizenFacts", "Companies", "Company"]
