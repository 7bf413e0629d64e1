"""Who may do what in the registry (object-level authorization, in one place).

Three roles: the central ``operator`` may do everything; an ``agency-admin`` manages only its
own agency's systems, keys, services and grants; an ``auditor`` reads everything and changes
nothing.  A person who may not *read* an object is told it does not exist (`NotFound`), so a
stranger learns nothing from error codes; one who may read but not change it gets `Forbidden`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from panjereh.domain.errors import PanjerehError


class Role(StrEnum):
    OPERATOR = "operator"
    AGENCY_ADMIN = "agency-admin"
    AUDITOR = "auditor"


class NotFound(PanjerehError):
    """No such object, or none this principal may see."""


class Forbidden(PanjerehError):
    """The principal may see the object but not do this to it."""


class Refused(Forbidden):
    """A refusal the control plane records: the operation has emitted its event (outcome
    ``refused``) into the transaction before raising this, having changed nothing else, so
    whoever runs the transaction commits it and then answers 403 with ``code``."""

    def __init__(self, code: str, *, message_en: str, message_fa: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_en = message_en
        self.message_fa = message_fa


class Conflict(PanjerehError):
    """The change contradicts the registry's current state (exists already, wrong status...)."""


@dataclass(frozen=True, slots=True)
class Principal:
    actor: str  # "user:alice", "cli:bob": recorded in every event
    role: Role
    agency: str | None = None  # the agency code of an agency-admin

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR

    @property
    def reads_everything(self) -> bool:
        return self.role in (Role.OPERATOR, Role.AUDITOR)

    def owns(self, agency: str) -> bool:
        return self.role is Role.AGENCY_ADMIN and self.agency == agency


def can_read_private(principal: Principal, agency: str) -> bool:
    """Systems, keys and grants of ``agency``."""
    return principal.reads_everything or principal.owns(agency)


def can_manage(principal: Principal, agency: str) -> bool:
    """Create or change ``agency``'s systems, keys, services; request grants for it."""
    return principal.is_operator or principal.owns(agency)


def can_read_grant(principal: Principal, consumer_agency: str, provider_agency: str) -> bool:
    return principal.reads_everything or principal.agency in (consumer_agency, provider_agency)


def require_read_private(principal: Principal, agency: str, what: str) -> None:
    if not can_read_private(principal, agency):
        raise NotFound(f"no {what}")


def require_manage(principal: Principal, agency: str, what: str) -> None:
    """Not readable: NotFound; readable but not manageable (auditor): Forbidden."""
    require_read_private(principal, agency, what)
    if not can_manage(principal, agency):
        raise Forbidden(f"you may not change this {what}")


def require_operator(principal: Principal) -> None:
    if not principal.is_operator:
        raise Forbidden("only an operator may do this")
