"""The demonstration government: a whole national registry as one `RegistryDocument`.

Modelled on the seed (docs/demo-government.md): 22 agencies, ~1,250 inquiry services (the
simulator's real ones plus template-generated ones), a few hundred grants and an inventory of
citizen services whose electronic and smart shares follow the oversight figures.  Deterministic:
the same ``public_url`` gives an identical document (fixed instant, seeded randomness only), and
the URL changes nothing but the services' ``endpoint_url``.  The simulator's catalogue is read
when the document is built, so whatever it holds then is registered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from panjereh.demo.citizen import Inquiries, build_citizen_services
from panjereh.demo.directory import Directory
from panjereh.demo.government_data import PURPOSES
from panjereh.demo.grants import NOW, PERSON_SERVICE, build_grants
from panjereh.demo.services import build_services
from panjereh.domain.identifiers import legal_id_check_digit
from panjereh.interchange.registry_document import (
    AgencyDoc,
    Contact,
    Purpose,
    RegistryDocument,
    ServiceDoc,
    SystemDoc,
)
from panjereh.registry.model import ServiceStatus, Status
from panjereh.simulator import catalogue
from panjereh.simulator.catalogue import SimulatedService

__all__ = ["CREATED_AT", "DEMO_CONSUMERS", "build_government", "compose_government"]

# Systems that get printed demo API keys: a consumer holding the grant on
# civil-registry.person.v1, one holding none, and the holder of the confidential grant.
DEMO_CONSUMERS: tuple[str, ...] = (
    "social-security/benefits",
    "science-ministry/degrees",
    "judiciary/case-management",
)
# The document's fixed instant: the seeding code stamps the demo keys it adds with it too.
CREATED_AT = NOW


def build_government(public_url: str) -> RegistryDocument:
    """The demo registry with every service's endpoint under ``public_url``."""
    return compose_government(public_url, catalogue.SIMULATED_SERVICES)


def compose_government(public_url: str, simulated: Sequence[SimulatedService]) -> RegistryDocument:
    """`build_government` over a given simulator catalogue (tests pass their own)."""
    directory = Directory.including(_agency_codes(simulated))
    services = build_services(public_url.rstrip("/") + "/simulator", simulated, directory)
    purpose_codes = frozenset(p.code for p in PURPOSES)
    systems = _systems(directory)
    inquiries = Inquiries(
        main=services.main_inquiry,
        available=_available(services.services, systems),
        person=PERSON_SERVICE if any(s.service_id == PERSON_SERVICE for s in simulated) else None,
    )
    return RegistryDocument(
        purposes=[
            Purpose(code=p.code, name_fa=p.name_fa, name_en=p.name_en, legal_basis=p.legal_basis)
            for p in PURPOSES
        ],
        agencies=_agencies(directory),
        systems=systems,
        services=services.services,
        grants=build_grants(simulated, services.services, directory, purpose_codes),
        citizen_services=build_citizen_services(directory, inquiries),
    )


def _agency_codes(simulated: Iterable[SimulatedService]) -> Iterable[str]:
    for entry in simulated:
        yield entry.agency
        yield from entry.consumers


def _agencies(directory: Directory) -> list[AgencyDoc]:
    return [
        AgencyDoc(
            code=row.code,
            legal_id=row.legal_prefix + legal_id_check_digit(row.legal_prefix),
            name_fa=row.name_fa,
            name_en=row.name_en,
            kind=row.kind,
            parent=row.parent,
            contact=Contact(email=f"it@{row.code}.gov.example"),
        )
        for row in directory.agencies.values()
    ]


def _systems(directory: Directory) -> list[SystemDoc]:
    return [
        SystemDoc(
            agency=row.code,
            code=system.code,
            name=system.name,
            roles=list(system.roles),
            status=system.status,
        )
        for row in directory.agencies.values()
        for system in row.systems
    ]


def _available(services: Iterable[ServiceDoc], systems: Iterable[SystemDoc]) -> frozenset[str]:
    """Services callable now: active or deprecated, on an active provider system."""
    active_systems = {s.ref for s in systems if s.status is Status.ACTIVE}
    callable_ = (ServiceStatus.ACTIVE, ServiceStatus.DEPRECATED)
    return frozenset(
        s.id for s in services if s.status in callable_ and s.provider in active_systems
    )
