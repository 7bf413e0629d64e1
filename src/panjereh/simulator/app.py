"""All simulated agencies behind one ASGI application, one path prefix per agency."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount

from panjereh.simulator.civil_registry.app import AGENCY_CODE as CIVIL_REGISTRY
from panjereh.simulator.civil_registry.app import create_app as civil_registry_app
from panjereh.simulator.population import Population


def create_simulator(seed: int) -> Starlette:
    population = Population(seed)
    return Starlette(routes=[Mount(f"/{CIVIL_REGISTRY}", app=civil_registry_app(population))])
