"""The audit log over the management API (docs/audit-log.md): the published checkpoints
(public, so that agencies, auditors and anyone else can keep their own copies and verify the
log against them later), browsing records and control-plane events, and one record's proof."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from panjereh.domain.errors import InvalidValue
from panjereh.registry.access import Conflict, Forbidden, NotFound, Principal
from panjereh.storage.audit_browse import MAX_LIMIT, events_page, record_row, records_page
from panjereh.storage.checkpoints_repo import CheckpointStore, NotYetCheckpointed, prove
from panjereh.storage.tables import BIGINT_MAX
from panjereh.web.api.context import PARTIES, ApiContext, Body
from panjereh.web.audit_view import (
    EventFilterText,
    RecordFilterText,
    event_json,
    may_see_record,
    parse_instant,
    read_event_filters,
    read_record_filters,
    record_json,
    subject_hashes,
)
from panjereh.web.purposes import RegisteredPurposes

PUBLIC = {"x-access": "public"}
READERS_OF_RECORDS = {"x-access": "consumer-or-provider-agency-operator-or-auditor"}
OPERATOR_OR_AUDITOR = {"x-access": "operator-or-auditor"}

Text = Annotated[str, Field(max_length=200)]
RECORD_FILTERS = {f.name for f in fields(RecordFilterText)}


class RecordFilters(Body):
    """The filters of `GET /audit/records`, as a body (the search by national code)."""

    service: Text = ""
    system: Text = ""
    consumer_agency: Text = ""
    provider_agency: Text = ""
    agency: Text = ""
    outcome: Text = ""
    since: Text = ""
    until: Text = ""
    after: Annotated[str, Field(max_length=200)] = ""
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 50


class RecordSearch(RecordFilters):
    national_code: Annotated[
        str, Field(min_length=1, max_length=40, description="hashed on the server, never kept")
    ]


def _no_code_in_urls() -> InvalidValue:
    return InvalidValue(
        "audit.national-code-in-url",
        message_en="Send the national code in the body of POST /api/v1/audit/records/search, "
        "so that it stays out of URLs and logs.",
        message_fa="کد ملی را در بدنهٔ POST /api/v1/audit/records/search بفرستید تا در "
        "نشانی‌ها و گزارش‌ها نماند.",
        field="national_code",
    )


def router(ctx: ApiContext) -> APIRouter:  # noqa: C901 - a flat list of small handlers
    router = ctx.router()
    caller = ctx.caller()
    purposes = RegisteredPurposes(ctx.runtime)

    @router.get("/audit/checkpoints", openapi_extra=PUBLIC)
    async def checkpoints(
        after: int = Query(
            0, ge=0, le=BIGINT_MAX, description="only checkpoints numbered above this"
        ),
        limit: int = Query(100, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        """Signed checkpoints, oldest first: each shard's head, the Merkle root over the
        records since the previous checkpoint, its hash, key id and Ed25519 signature."""
        found = await CheckpointStore(ctx.runtime.engine).since(after, limit)
        return [checkpoint.as_json() for checkpoint in found]

    async def browse(filters: RecordFilters, who: Principal, hashes: tuple[str, ...]) -> Any:
        snapshot = ctx.runtime.registry.current
        given = RecordFilterText(**filters.model_dump(include=RECORD_FILTERS))
        query, cursor = read_record_filters(
            who, snapshot, given, period=parse_instant, after=filters.after, hashes=hashes
        )
        async with ctx.runtime.engine.connect() as conn:
            page = await records_page(conn, query, after=cursor, limit=filters.limit)
        registered = await purposes.current()
        return {
            "records": [record_json(r, snapshot, registered) for r in page.rows],
            "next": page.next,
        }

    @router.get("/audit/records", openapi_extra=READERS_OF_RECORDS)
    async def records(
        service: Annotated[str, Query(max_length=200, description="a service id")] = "",
        system: Annotated[
            str, Query(max_length=200, description="the consumer system, agency/system")
        ] = "",
        consumer_agency: Annotated[
            str, Query(max_length=200, description="records of this agency's systems' inquiries")
        ] = "",
        provider_agency: Annotated[
            str, Query(max_length=200, description="records of inquiries to this agency")
        ] = "",
        agency: Annotated[
            str, Query(max_length=200, description="this agency as consumer or provider")
        ] = "",
        outcome: Annotated[str, Query(max_length=20)] = "",
        since: Annotated[
            str, Query(max_length=40, description="ISO date (a Tehran day) or datetime")
        ] = "",
        until: Annotated[str, Query(max_length=40, description="inclusive for a date")] = "",
        after: Annotated[str, Query(max_length=200, description="the previous page's next")] = "",
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
        national_code: Annotated[str | None, Query(include_in_schema=False)] = None,
        who: Principal = caller,
    ) -> dict[str, Any]:
        """Audit records, newest first, filtered; an agency's administrator sees only those
        its agency consumed or provided. `next` is the cursor of the following page."""
        if national_code is not None:
            raise _no_code_in_urls()
        filters = RecordFilters(
            service=service,
            system=system,
            consumer_agency=consumer_agency,
            provider_agency=provider_agency,
            agency=agency,
            outcome=outcome,
            since=since,
            until=until,
            after=after,
            limit=limit,
        )
        found: dict[str, Any] = await browse(filters, who, ())
        return found

    @router.post("/audit/records/search", openapi_extra=OPERATOR_OR_AUDITOR)
    async def search(body: RecordSearch, who: Principal = caller) -> dict[str, Any]:
        """The same list for one person, by national code (in the body: never in a URL, never
        logged, never echoed); operators and auditors only."""
        hashes = subject_hashes(who, ctx.runtime.subject_keys, body.national_code)
        found: dict[str, Any] = await browse(body, who, hashes)
        return found

    @router.get("/audit/events", openapi_extra=OPERATOR_OR_AUDITOR)
    async def events(
        actor: Annotated[str, Query(max_length=160, description="e.g. user:alice")] = "",
        action: Annotated[str, Query(max_length=64, description="e.g. grant.approve")] = "",
        object_type: Annotated[str, Query(max_length=32)] = "",
        object_id: Annotated[str, Query(max_length=200)] = "",
        since: Annotated[str, Query(max_length=40)] = "",
        until: Annotated[str, Query(max_length=40)] = "",
        after: Annotated[str, Query(max_length=200)] = "",
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
        who: Principal = caller,
    ) -> dict[str, Any]:
        """Control-plane events (registry changes, sign-ins, key rotations), newest first;
        stored credential hashes in `before`/`after` are blanked out."""
        if not who.reads_everything:
            raise Forbidden("only operators and auditors read the control-plane events")
        given = EventFilterText(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            since=since,
            until=until,
        )
        query, cursor = read_event_filters(given, period=parse_instant, after=after)
        async with ctx.runtime.engine.connect() as conn:
            page = await events_page(conn, query, after=cursor, limit=limit)
        return {"events": [event_json(r, who) for r in page.rows], "next": page.next}

    @router.get("/audit/records/{exchange_id}/proof", openapi_extra=PARTIES)
    async def proof(exchange_id: str, who: Principal = caller) -> dict[str, Any]:
        """The record, its inclusion proof and the signed checkpoint that covers it; check it
        offline with `panjereh audit check-proof` (docs/audit-log.md)."""
        async with ctx.runtime.engine.connect() as conn:
            row = await record_row(conn, exchange_id)
        snapshot = ctx.runtime.registry.current
        # Whom it does not concern learns nothing, not even that it waits for a checkpoint.
        if row is None or not may_see_record(who, snapshot, row["consumer"], row["service_id"]):
            raise NotFound("no such audit record")
        try:
            found = await prove(ctx.runtime.engine, exchange_id)
        except NotYetCheckpointed:
            raise Conflict(
                "No checkpoint covers this record yet; they are made every "
                f"{ctx.runtime.settings.audit_checkpoint_seconds:g} s."
            ) from None
        if found is None:
            raise NotFound("no such audit record")
        return found[1]

    return router
