""" "Who looked at my data?": the rows of a citizen's page, for the API and the portal alike.

A page costs one indexed query for the records the citizen may see (withheld ones excluded in
SQL, so a page is never short because of them), one indexed query for the withheld records in
the same span (to record them), one look-up of which shown records the citizen already
reported, and — only if something was withheld — one multi-row INSERT of the withholdings.
Names come from the in-memory registry snapshot; the confidential grants and purpose names
are read once per registry version.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.audit.citizen import (
    DEFAULT_LIMIT,
    CaseStatus,
    CitizenPurpose,
    ConfidentialGrants,
    Cursor,
    Period,
    SubjectRecord,
    Withholding,
    check_limit,
    check_reason,
    citizen_purpose,
    tehran_day,
)
from panjereh.domain.errors import InvalidValue
from panjereh.domain.jalali import TEHRAN, format_datetime
from panjereh.registry.access import NotFound
from panjereh.registry.model import Agency, Service, System, SystemRole
from panjereh.storage.cases_repo import Case, open_case
from panjereh.storage.citizen_repo import (
    CitizenSession,
    RecordFilter,
    confidential_grants,
    purpose_names,
    record_withholdings,
    subject_record,
    subject_records,
)
from panjereh.storage.tables import audit_cases
from panjereh.web.runtime import Runtime

# Withholdings recorded per view at most (a last page may span a long confidential history).
MAX_WITHHELD = 1000


@dataclass(frozen=True, slots=True)
class Reference:
    """What a page names records with, besides the snapshot; rebuilt per registry version."""

    version: int
    confidential: ConfidentialGrants
    purposes: Mapping[str, tuple[str, str]]
    agencies: Mapping[str, Agency]  # by code
    consumer_agencies: Sequence[Agency]  # agencies with a consumer system (the filter's)


@dataclass(frozen=True, slots=True)
class InquiryQuery:
    period: Period = field(default_factory=Period)
    agency: str | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class InquiryRow:
    record: SubjectRecord
    agency: Agency | None
    system: System | None
    service: Service | None
    purpose: CitizenPurpose | None  # None: nothing declared
    reported: bool  # the citizen has an open case on it

    @property
    def system_code(self) -> str | None:
        consumer = self.record.consumer
        return consumer.split("/", 1)[1] if consumer and "/" in consumer else None

    def as_json(self) -> dict[str, Any]:
        """The API's row: never the national code or the subject hash, and a declared
        purpose only by its registered names (`citizen_purpose`)."""
        r = self.record
        return {
            "exchange_id": r.exchange_id,
            "time": r.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "time_tehran": r.created_at.astimezone(TEHRAN).isoformat(),
            "time_jalali": format_datetime(r.created_at, "en"),
            "agency": None
            if self.agency is None
            else {
                "code": self.agency.code,
                "name_fa": self.agency.name_fa,
                "name_en": self.agency.name_en,
            },
            "system": None
            if self.system_code is None
            else {"code": self.system_code, "name": self.system.name if self.system else None},
            "service": None
            if r.service_id is None
            else {
                "id": r.service_id,
                "name_fa": self.service.name_fa if self.service else None,
                "name_en": self.service.name_en if self.service else None,
            },
            "purpose": None
            if self.purpose is None
            else {
                "code": self.purpose.code,
                "name_fa": self.purpose.name_fa,
                "name_en": self.purpose.name_en,
                "registered": self.purpose.registered,
            },
            "outcome": r.outcome,
            "reported": self.reported,
        }


@dataclass(frozen=True, slots=True)
class InquiryPage:
    rows: list[InquiryRow]
    next_cursor: str | None


class CitizenView:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._reference: Reference | None = None
        self._loading = asyncio.Lock()

    async def reference(self) -> Reference:
        snapshot = self.runtime.registry.current
        current = self._reference
        if current is not None and current.version == snapshot.version:
            return current
        async with self._loading:
            if self._reference is not None and self._reference.version == snapshot.version:
                return self._reference
            async with self.runtime.engine.connect() as conn:
                grants = await confidential_grants(conn)
                names = await purpose_names(conn)
            agencies = {a.code: a for a in snapshot.agencies.values()}
            consumers = {
                s.agency.code for s in snapshot.systems.values() if SystemRole.CONSUMER in s.roles
            }
            self._reference = Reference(
                snapshot.version,
                ConfidentialGrants(grants),
                names,
                agencies,
                [agencies[c] for c in sorted(consumers) if c in agencies],
            )
            return self._reference

    def check_agency(self, reference: Reference, code: str | None) -> str | None:
        if not code:
            return None
        if code not in reference.agencies:
            raise InvalidValue(
                "citizen.agency",
                message_en="There is no agency with this code.",
                message_fa="دستگاهی با این کد وجود ندارد.",
                field="agency",
            )
        return code

    async def page(self, session: CitizenSession, query: InquiryQuery) -> InquiryPage:
        reference = await self.reference()
        limit = check_limit(query.limit)
        now = self.runtime.clock.now()
        day = tehran_day(now)
        where = RecordFilter(
            period=query.period,
            consumer_agency=self.check_agency(reference, query.agency),
            after=Cursor.decode(query.cursor) if query.cursor else None,
            hidden=reference.confidential.withheld_pairs(day),
        )
        hashes = session.subject_hashes
        async with self.runtime.engine.connect() as conn:
            found = await subject_records(conn, hashes, where, limit + 1)
            shown, more = found[:limit], len(found) > limit
            last = Cursor(shown[-1].created_at, shown[-1].exchange_id) if shown else None
            withheld: list[Withholding] = []
            if where.hidden:  # those this page would have shown: down to its last row
                span = replace(where, hidden_only=True, down_to=last if more else None)
                for record in await subject_records(conn, hashes, span, MAX_WITHHELD):
                    withholding = reference.confidential.withholding(record, day)
                    if withholding is not None:
                        withheld.append(withholding)
            reported = await self._reported(conn, session, [r.exchange_id for r in shown])
        if withheld:
            async with self.runtime.engine.begin() as conn:
                await record_withholdings(conn, withheld, now)
        return InquiryPage(
            [self._row(reference, r, reported) for r in shown],
            last.encode() if more and last is not None else None,
        )

    async def _reported(
        self, conn: AsyncConnection, session: CitizenSession, exchange_ids: list[str]
    ) -> frozenset[str]:
        if not exchange_ids:
            return frozenset()
        found = await conn.scalars(
            select(audit_cases.c.exchange_id).where(
                audit_cases.c.exchange_id.in_(exchange_ids),
                audit_cases.c.subject_hash.in_(list(session.subject_hashes)),
                audit_cases.c.status == CaseStatus.OPEN.value,
            )
        )
        return frozenset(found)

    def _row(
        self, reference: Reference, record: SubjectRecord, reported: frozenset[str]
    ) -> InquiryRow:
        snapshot = self.runtime.registry.current
        system = snapshot.systems_by_ident.get(record.consumer or "")
        agency = system.agency if system is not None else None
        if agency is None and record.consumer:
            agency = reference.agencies.get(record.consumer.split("/", 1)[0])
        return InquiryRow(
            record,
            agency,
            system,
            snapshot.services.get(record.service_id or ""),
            citizen_purpose(record.purpose, reference.purposes),
            record.exchange_id in reported,
        )

    async def flag(self, session: CitizenSession, exchange_id: str, reason: str) -> Case:
        """Open a case on one of the citizen's records; 404 for any record the citizen may
        not see (someone else's, or withheld: the answer must not tell which)."""
        reason = check_reason(reason)
        reference = await self.reference()
        now = self.runtime.clock.now()
        if len(exchange_id) > 36:
            raise NotFound("no such inquiry")
        async with self.runtime.engine.begin() as conn:
            record = await subject_record(conn, exchange_id, session.subject_hashes)
            withheld = (
                reference.confidential.withholding(record, tehran_day(now))
                if record is not None
                else None
            )
            if record is not None and withheld is None:
                return await open_case(conn, record, actor=session.actor, reason=reason, now=now)
            if withheld is not None:  # committed with this transaction, then refused
                await record_withholdings(conn, [withheld], now)
        raise NotFound("no such inquiry")
