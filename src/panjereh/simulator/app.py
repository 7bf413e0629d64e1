"""All simulated agencies behind one ASGI application, one path prefix per agency.

The generic inquiry route comes first, so ``/{agency}/inquiries/{service}`` answers for every
agency code, simulated here or not; everything else goes to the agency's own application.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from panjereh.simulator.agriculture_ministry import app as agriculture_ministry
from panjereh.simulator.catalogue import GENERIC_PATH_TEMPLATE
from panjereh.simulator.civil_registry import app as civil_registry
from panjereh.simulator.companies_registry import app as companies_registry
from panjereh.simulator.cultural_heritage_ministry import app as cultural_heritage_ministry
from panjereh.simulator.education_ministry import app as education_ministry
from panjereh.simulator.gatekeeper import ExchangeSignatureGate, Jwks
from panjereh.simulator.generic import generic_endpoint
from panjereh.simulator.health_insurance import app as health_insurance
from panjereh.simulator.interior_ministry import app as interior_ministry
from panjereh.simulator.judiciary import app as judiciary
from panjereh.simulator.oil_ministry import app as oil_ministry
from panjereh.simulator.population import Population
from panjereh.simulator.science_ministry import app as science_ministry
from panjereh.simulator.social_security import app as social_security
from panjereh.simulator.tax_administration import app as tax_administration
from panjereh.simulator.telecom_regulator import app as telecom_regulator
from panjereh.simulator.traffic_police import app as traffic_police
from panjereh.simulator.welfare_organization import app as welfare_organization

AppFactory = Callable[[Population], Starlette]

#: Every simulated agency: its code (the path prefix) and the factory of its application.
AGENCIES: tuple[tuple[str, AppFactory], ...] = (
    (civil_registry.AGENCY_CODE, civil_registry.create_app),
    (science_ministry.AGENCY_CODE, science_ministry.create_app),
    (education_ministry.AGENCY_CODE, education_ministry.create_app),
    (social_security.AGENCY_CODE, social_security.create_app),
    (health_insurance.AGENCY_CODE, health_insurance.create_app),
    (judiciary.AGENCY_CODE, judiciary.create_app),
    (traffic_police.AGENCY_CODE, traffic_police.create_app),
    (telecom_regulator.AGENCY_CODE, telecom_regulator.create_app),
    (tax_administration.AGENCY_CODE, tax_administration.create_app),
    (welfare_organization.AGENCY_CODE, welfare_organization.create_app),
    (agriculture_ministry.AGENCY_CODE, agriculture_ministry.create_app),
    (cultural_heritage_ministry.AGENCY_CODE, cultural_heritage_ministry.create_app),
    (oil_ministry.AGENCY_CODE, oil_ministry.create_app),
    (interior_ministry.AGENCY_CODE, interior_ministry.create_app),
    (companies_registry.AGENCY_CODE, companies_registry.create_app),
)


def create_simulator(seed: int, *, exchange_keys: Jwks | None = None) -> Starlette:
    """Every simulated agency; with ``exchange_keys`` (the exchange's JWKS, as
    ``GET /exchange/v1/keys`` serves it) they answer only requests the exchange signed.
    The platform always passes them; unit tests of the answers alone may leave them out."""
    population = Population(seed)
    routes: list[BaseRoute] = [
        Route(GENERIC_PATH_TEMPLATE, generic_endpoint(population), methods=["POST"])
    ]
    routes.extend(Mount(f"/{code}", app=create(population)) for code, create in AGENCIES)
    gate = [] if exchange_keys is None else [Middleware(ExchangeSignatureGate, jwks=exchange_keys)]
    return Starlette(routes=routes, middleware=gate)
