"""The citizen view in the API (docs/audit-log.md, "Citizen view").

``/me/...`` is for a signed-in citizen: the portal's session cookie, not a bearer token (the
development sign-in opens one today).  Changes need the session's CSRF token in
``X-CSRF-Token`` and a same-origin request.  ``/audit/withholdings`` is for auditors and
operators (bearer token).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from pydantic import Field
from starlette.responses import JSONResponse

from panjereh.audit.citizen import DEFAULT_LIMIT, MAX_LIMIT, REASON_MAX, REASON_MIN, Period
from panjereh.registry.access import Forbidden, Principal
from panjereh.storage.citizen_repo import CitizenSession, WithholdingFilter, withholdings
from panjereh.storage.tables import BIGINT_MAX, INTEGER_MAX
from panjereh.web.api.context import ApiContext, Body
from panjereh.web.api.errors import problem
from panjereh.web.citizen.sessions import CSRF_HEADER, CitizenSessions
from panjereh.web.citizen.view import CitizenView, InquiryQuery

CITIZEN = {"x-access": "citizen"}
AUDITORS = {"x-access": "operator-or-auditor"}
NO_STORE = "no-store"


class CitizenUnauthenticated(Exception):
    """No valid citizen session cookie."""


class FlagIn(Body):
    reason: Annotated[str, Field(min_length=REASON_MIN, max_length=REASON_MAX)]


def install(api: FastAPI) -> None:
    async def unauthenticated(_r: Request, _exc: Exception) -> JSONResponse:
        return problem(
            401,
            "unauthenticated",
            "Authentication required",
            "Sign in to the portal first: this uses the portal's session cookie.",
        )

    api.add_exception_handler(CitizenUnauthenticated, unauthenticated)


def router(ctx: ApiContext) -> APIRouter:
    router = ctx.router()
    sessions = CitizenSessions(ctx.runtime)
    view = CitizenView(ctx.runtime)
    caller = ctx.caller()

    async def signed_in(request: Request) -> CitizenSession:
        session = await sessions.current(request)
        if session is None:
            raise CitizenUnauthenticated
        return session

    citizen = Depends(signed_in)

    @router.get("/me/session", openapi_extra=CITIZEN)
    async def session_info(response: Response, session: CitizenSession = citizen) -> dict[str, Any]:
        """The session's CSRF token (send it in ``X-CSRF-Token`` with every change) and
        when the session ends."""
        response.headers["Cache-Control"] = NO_STORE
        return {"csrf_token": session.csrf, "expires_at": session.expires_at.isoformat()}

    @router.get("/me/inquiries", openapi_extra=CITIZEN)
    async def my_inquiries(
        response: Response,
        session: CitizenSession = citizen,
        agency: Annotated[str | None, Query(max_length=64)] = None,
        since: Annotated[date | None, Query(description="first day (Tehran), ISO")] = None,
        until: Annotated[date | None, Query(description="last day (Tehran), ISO")] = None,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """Every inquiry about the signed-in citizen, newest first; ``next_cursor`` fetches
        the next page.  Inquiries under a confidential grant are withheld until its
        disclosure date (and the withholding is recorded for the auditors)."""
        response.headers["Cache-Control"] = NO_STORE  # personal data: no cache keeps it
        query = InquiryQuery(Period(since, until), agency, cursor, limit)
        page = await view.page(session, query)
        return {
            "inquiries": [row.as_json() for row in page.rows],
            "next_cursor": page.next_cursor,
        }

    @router.post("/me/inquiries/{exchange_id}/flag", status_code=201, openapi_extra=CITIZEN)
    async def flag(
        exchange_id: str, body: FlagIn, request: Request, session: CitizenSession = citizen
    ) -> dict[str, Any]:
        """Report one of your inquiries as suspicious: opens a case for the operators."""
        if not sessions.api_change_allowed(request, session):
            raise Forbidden(f"send the session's CSRF token in {CSRF_HEADER} (same origin)")
        case = await view.flag(session, exchange_id, body.reason)
        return {
            "case": case.id,
            "status": case.status.value,
            "opened_at": case.opened_at.isoformat(),
            "exchange_id": case.exchange_id,
        }

    @router.get("/audit/withholdings", openapi_extra=AUDITORS)
    async def list_withholdings(
        who: Principal = caller,
        agency: Annotated[str | None, Query(max_length=64)] = None,
        since: date | None = None,
        until: date | None = None,
        exchange_id: Annotated[str | None, Query(max_length=36)] = None,
        grant: Annotated[
            int | None, Query(ge=1, le=INTEGER_MAX, description="a grant's id")
        ] = None,
        cursor: Annotated[
            int | None,
            Query(ge=0, le=BIGINT_MAX, description="the previous page's next_cursor"),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """Records withheld from citizens' views, newest first: one row per record per
        view."""
        if not who.reads_everything:
            raise Forbidden("only auditors and operators see withholdings")
        where = WithholdingFilter(
            Period(since, until),
            agency or None,
            exchange_id or None,
            grant,
            cursor,
        )
        async with ctx.transaction() as conn:
            rows = await withholdings(conn, where, limit + 1)
        shown = rows[:limit]
        return {
            "withholdings": [
                {
                    "id": w.id,
                    "withheld_at": w.withheld_at.isoformat(),
                    "subject_hash": w.subject_hash,
                    "exchange_id": w.exchange_id,
                    "grant_id": w.grant_id,
                    "disclosure_date": w.disclosure_date.isoformat() if w.disclosure_date else None,
                    "consumer": w.consumer,
                    "service_id": w.service_id,
                }
                for w in shown
            ],
            "next_cursor": str(shown[-1].id) if len(rows) > limit else None,
        }

    return router
