"""The area's routes, once per language: ``/operator/...`` (Persian) and ``/en/operator/...``."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute

from panjereh.registry.model import Status
from panjereh.web.operator import (
    actions,
    audit,
    cases,
    lockouts,
    security,
    sign_in,
    views,
    withholdings,
)
from panjereh.web.operator.area import Area, Handler
from panjereh.web.operator.i18n import LOCALES, OperatorLocale
from panjereh.web.policy import Access, route
from panjereh.web.runtime import Runtime

POST = ("POST",)
GRANT = "/grants/{agency}/{system}/{service_id}"
CATCH_ALL = "/{rest:path}"


def routes(runtime: Runtime) -> list[BaseRoute]:
    area = Area(runtime)
    return [r for locale in LOCALES for r in _routes(area, locale)]


def _routes(area: Area, locale: OperatorLocale) -> list[BaseRoute]:
    prefix = locale.prefix

    def page(
        path: str,
        handler: Handler,
        access: Access = Access.SIGNED_IN,
        methods: Sequence[str] = ("GET",),
        *,
        enrolment: bool = False,
    ) -> BaseRoute:
        endpoint = area.signed_in(handler, locale, access, enrolment=enrolment)
        return route(prefix + path, endpoint, access=access, methods=methods)

    return [
        route(f"{prefix}/sign-in", sign_in.form(area, locale), access=Access.PUBLIC),
        route(
            f"{prefix}/sign-in", sign_in.submit(area, locale), access=Access.PUBLIC, methods=POST
        ),
        route(f"{prefix}/sign-in/code", sign_in.code_form(area, locale), access=Access.PUBLIC),
        route(
            f"{prefix}/sign-in/code",
            sign_in.code_submit(area, locale),
            access=Access.PUBLIC,
            methods=POST,
        ),
        route(
            f"{prefix}/sign-out",
            sign_in.sign_out(area, locale),
            access=Access.SIGNED_IN,
            methods=POST,
        ),
        page("/security", security.security, enrolment=True),
        page("/security/enrol", security.enrol, Access.SIGNED_IN, POST, enrolment=True),
        page("/security/confirm", security.confirm, Access.SIGNED_IN, POST, enrolment=True),
        page("/security/disable", security.disable, Access.SIGNED_IN, POST, enrolment=True),
        page("/", views.dashboard),
        page("/agencies", views.agencies),
        page("/agencies/{code}", views.agency),
        page("/agencies/{code}/suspend", actions.agency_status(Status.SUSPENDED), *_OP),
        page("/agencies/{code}/reactivate", actions.agency_status(Status.ACTIVE), *_OP),
        page("/systems/{agency}/{system}/suspend", actions.system_status(Status.SUSPENDED), *_OP),
        page("/systems/{agency}/{system}/reactivate", actions.system_status(Status.ACTIVE), *_OP),
        page("/services", views.services),
        page("/services/{service_id}", views.service),
        page("/grants", views.grants),
        page(f"{GRANT}/approve", actions.grant_action("approve"), Access.SIGNED_IN, POST),
        page(f"{GRANT}/reject", actions.grant_action("reject"), Access.SIGNED_IN, POST),
        page(f"{GRANT}/revoke", actions.grant_action("revoke"), Access.SIGNED_IN, POST),
        page("/cases", cases.cases),
        page("/cases/{case_id}", cases.case),
        page("/cases/{case_id}/close", cases.close(), *_OP),
        page("/withholdings", withholdings.withholdings_list),
        page("/audit", audit.records),
        page("/audit/search", audit.search, Access.SIGNED_IN, POST),
        page("/audit/records/{exchange_id}", audit.record),
        page("/audit/records/{exchange_id}/proof.json", audit.proof_file),
        page("/audit/events", audit.events),
        page("/lockouts", lockouts.lockouts),
        page("/lockouts/lift", lockouts.lift, *_OP),
        page(CATCH_ALL, views.not_found),  # last: every other path of the area
    ]


_OP: tuple[Access, Sequence[str]] = (Access.OPERATOR, POST)
