"""The citizen view's storage on SQLite and PostgreSQL: sessions, the page query, withholdings,
cases (with their control-plane events), and migration 0007 both ways."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.citizen import CaseStatus, Cursor, Period, SubjectRecord, Withholding
from panjereh.audit.records import AuditRecord, Outcome
from panjereh.registry.access import Conflict, Forbidden, NotFound, Principal, Role
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.cases_repo import cases_page, close_case, get_case, open_case
from panjereh.storage.citizen_repo import (
    RecordFilter,
    WithholdingFilter,
    citizen_session,
    close_citizen_session,
    open_citizen_session,
    record_withholdings,
    subject_record,
    subject_records,
    withholdings,
)
from panjereh.storage.events_repo import events_for
from panjereh.storage.migrate import alembic_config, script_head
from panjereh.storage.tables import audit_cases, citizen_sessions

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
A, B, C = "aa" * 32, "bb" * 32, "cc" * 32
OPERATOR = Principal("user:olga", Role.OPERATOR)


def _record(
    n: int, subject: str, *, minutes: int, consumer: str = "social-security/benefits"
) -> AuditRecord:
    return AuditRecord(
        exchange_id=f"0190f3c2-6666-7000-8000-{n:012d}",
        created_at=NOW - timedelta(minutes=minutes),
        consumer=consumer,
        service_id="civil-registry.person.v1",
        purpose="benefit-eligibility",
        subject_hash=subject,
        outcome=Outcome.OK,
        status_code=200,
        error_type=None,
        duration_ms=1.0,
        request_hash=None,
        response_hash=None,
    )


@pytest.fixture
async def written(store: SqlAuditStore) -> list[AuditRecord]:
    """A: records 1-6 (3 and 4 at the same instant), B: 7-8 (older key), C: 9."""
    made = [
        _record(1, A, minutes=1),
        _record(2, A, minutes=2, consumer="tax-administration/assessment"),
        _record(3, A, minutes=3),
        _record(4, A, minutes=3),
        _record(5, A, minutes=60 * 24),  # the day before (Tehran)
        _record(6, A, minutes=5),
        _record(7, B, minutes=4),
        _record(8, B, minutes=60 * 30),
        _record(9, C, minutes=1),
    ]
    await store.append(made)
    return made


def _ids(found: list[SubjectRecord]) -> list[int]:
    return [int(r.exchange_id.rsplit("-", 1)[1]) for r in found]


async def test_the_page_query_is_newest_first_and_continues_after_its_cursor(
    engine: AsyncEngine, written: list[AuditRecord]
) -> None:
    async with engine.connect() as conn:
        first = await subject_records(conn, [A], RecordFilter(), 3)
        assert _ids(first) == [1, 2, 4]  # 3 and 4 tie on time: the larger exchange id first
        after = Cursor(first[-1].created_at, first[-1].exchange_id)
        rest = await subject_records(conn, [A], RecordFilter(after=after), 10)
        assert _ids(rest) == [3, 6, 5]
        both = await subject_records(conn, [A, B], RecordFilter(), 10)
        assert _ids(both) == [1, 2, 4, 3, 7, 6, 5, 8]
        later = Cursor(both[3].created_at, both[3].exchange_id)
        assert _ids(await subject_records(conn, [B, A], RecordFilter(after=later), 2)) == [7, 6]
    assert first[0] == SubjectRecord(
        written[0].exchange_id,
        written[0].created_at,
        "social-security/benefits",
        "civil-registry.person.v1",
        "benefit-eligibility",
        "ok",
        A,
    )


async def test_the_page_query_filters_by_agency_and_tehran_days(
    engine: AsyncEngine, written: list[AuditRecord]
) -> None:
    today = Period(date(2026, 12, 2), date(2026, 12, 2))
    async with engine.connect() as conn:
        tax = await subject_records(
            conn, [A], RecordFilter(consumer_agency="tax-administration"), 10
        )
        assert _ids(tax) == [2]
        assert _ids(await subject_records(conn, [A], RecordFilter(consumer_agency="tax"), 10)) == []
        assert _ids(await subject_records(conn, [A], RecordFilter(period=today), 10)) == [
            1,
            2,
            4,
            3,
            6,
        ]
        yesterday = Period(until=date(2026, 12, 1))
        assert _ids(await subject_records(conn, [A], RecordFilter(period=yesterday), 10)) == [5]


async def test_one_record_is_found_only_under_the_subjects_own_hashes(
    engine: AsyncEngine, written: list[AuditRecord]
) -> None:
    async with engine.connect() as conn:
        assert (await subject_record(conn, written[8].exchange_id, [C])) is not None
        assert await subject_record(conn, written[8].exchange_id, [A, B]) is None
        assert await subject_record(conn, "no-such-id", [A]) is None


async def test_a_session_keeps_hashes_and_the_hash_of_its_id_only(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        session_id, session = await open_citizen_session(
            conn, [A, B], method="development", lifetime=timedelta(hours=1), now=NOW
        )
    async with engine.connect() as conn:
        rows = (await conn.execute(select(citizen_sessions))).mappings().all()
        assert len(rows) == 1
        assert rows[0]["id_hash"] != session_id
        assert len(rows[0]["id_hash"]) == 64
        assert rows[0]["subject_hashes"] == [A, B]
        assert rows[0]["method"] == "development"
        found = await citizen_session(conn, session_id, NOW + timedelta(minutes=59))
        assert found == session
        assert session.actor == f"citizen:{A[:16]}"
        assert await citizen_session(conn, session_id, NOW + timedelta(hours=1)) is None
        assert await citizen_session(conn, "forged", NOW) is None
    async with engine.begin() as conn:
        await close_citizen_session(conn, session_id)
        assert await citizen_session(conn, session_id, NOW) is None


async def test_opening_a_session_sweeps_expired_ones(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await open_citizen_session(
            conn, [A], method="development", lifetime=timedelta(hours=1), now=NOW
        )
        await open_citizen_session(
            conn,
            [B],
            method="development",
            lifetime=timedelta(hours=1),
            now=NOW + timedelta(hours=2),
        )
        hashes = (await conn.execute(select(citizen_sessions.c.subject_hashes))).scalars().all()
    assert hashes == [[B]]


async def test_withholdings_are_written_in_one_batch_and_listed_newest_first(
    engine: AsyncEngine,
) -> None:
    first = [
        Withholding(f"x-{n}", A, 3, date(2027, 3, 21), "judiciary/cases", "s.v1") for n in (1, 2)
    ]
    second = [Withholding("x-9", B, 4, None, "police/intel", "s.v1")]
    async with engine.begin() as conn:
        await record_withholdings(conn, first, NOW)
        await record_withholdings(conn, second, NOW + timedelta(days=1))
        await record_withholdings(conn, [], NOW)
    async with engine.connect() as conn:
        found = await withholdings(conn, WithholdingFilter(), 10)
        assert [(w.exchange_id, w.subject_hash, w.grant_id, w.disclosure_date) for w in found] == [
            ("x-9", B, 4, None),
            ("x-2", A, 3, date(2027, 3, 21)),
            ("x-1", A, 3, date(2027, 3, 21)),
        ]
        assert found[1].withheld_at == NOW
        judiciary = WithholdingFilter(consumer_agency="judiciary")
        assert [w.exchange_id for w in await withholdings(conn, judiciary, 10)] == ["x-2", "x-1"]
        assert [
            w.exchange_id for w in await withholdings(conn, WithholdingFilter(grant_id=4), 10)
        ] == ["x-9"]
        older = WithholdingFilter(before_id=found[1].id)
        assert [w.exchange_id for w in await withholdings(conn, older, 10)] == ["x-1"]
        day = WithholdingFilter(period=Period(date(2026, 12, 3), date(2026, 12, 3)))
        assert [w.exchange_id for w in await withholdings(conn, day, 10)] == ["x-9"]
        assert [
            w.exchange_id
            for w in await withholdings(conn, WithholdingFilter(exchange_id="x-1"), 10)
        ] == ["x-1"]


def _subject(record: AuditRecord) -> SubjectRecord:
    assert record.subject_hash is not None
    return SubjectRecord(
        record.exchange_id,
        record.created_at,
        record.consumer,
        record.service_id,
        record.purpose,
        record.outcome.value,
        record.subject_hash,
    )


async def test_a_case_opens_once_per_record_and_closes_once_each_with_its_event(
    engine: AsyncEngine, written: list[AuditRecord]
) -> None:
    flagged = _subject(written[0])
    async with engine.begin() as conn:
        case = await open_case(conn, flagged, actor="citizen:aaaa", reason="I never asked", now=NOW)
    assert (case.status, case.exchange_id, case.subject_hash, case.reason) == (
        CaseStatus.OPEN,
        flagged.exchange_id,
        A,
        "I never asked",
    )
    with pytest.raises(Conflict):
        async with engine.begin() as conn:
            await open_case(conn, flagged, actor="citizen:aaaa", reason="again", now=NOW)
    auditor = Principal("user:ali", Role.AUDITOR)
    with pytest.raises(Forbidden):
        async with engine.begin() as conn:
            await close_case(conn, auditor, case.id, resolution="no", now=NOW)
    later = NOW + timedelta(hours=1)
    async with engine.begin() as conn:
        closed = await close_case(conn, OPERATOR, case.id, resolution="a lawful check", now=later)
    assert (closed.status, closed.closed_at, closed.closed_by, closed.resolution) == (
        CaseStatus.CLOSED,
        later,
        "user:olga",
        "a lawful check",
    )
    with pytest.raises(Conflict):
        async with engine.begin() as conn:
            await close_case(conn, OPERATOR, case.id, resolution="again", now=later)
    with pytest.raises(NotFound):
        async with engine.begin() as conn:
            await close_case(conn, OPERATOR, 999, resolution="none", now=later)
    async with engine.begin() as conn:  # closed: the citizen may report it again
        reopened = await open_case(
            conn, flagged, actor="citizen:aaaa", reason="still odd", now=later
        )
    async with engine.connect() as conn:
        events = await events_for(conn, "audit-case", str(case.id))
        assert [(e.action, e.actor, e.reason, e.before, e.after) for e in events] == [
            ("audit-case.open", "citizen:aaaa", "I never asked", None,
             {"exchange_id": flagged.exchange_id, "status": "open"}),
            ("audit-case.close", "user:olga", "a lawful check", {"status": "open"},
             {"status": "closed", "exchange_id": flagged.exchange_id}),
        ]  # fmt: skip
        page = await cases_page(conn, status="", page=1)
        assert [c.id for c in page.cases] == [reopened.id, case.id]
        assert (page.total, page.open, page.pages) == (2, 1, 1)
        closed_only = await cases_page(conn, status="closed", page=1)
        assert [c.id for c in closed_only.cases] == [case.id]
        assert await get_case(conn, reopened.id) == reopened


async def test_the_database_refuses_a_second_open_case_on_the_same_record(
    engine: AsyncEngine,
) -> None:
    row = {"opened_at": NOW, "exchange_id": "x", "subject_hash": A, "reason": "r", "status": "open"}
    async with engine.begin() as conn:
        await conn.execute(insert(audit_cases).values(**row))
        await conn.execute(insert(audit_cases).values(**(row | {"status": "closed"})))
        await conn.execute(insert(audit_cases).values(**(row | {"subject_hash": B})))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert(audit_cases).values(**row))


async def test_open_cases_come_first_oldest_first_then_closed_newest_first(
    engine: AsyncEngine, written: list[AuditRecord]
) -> None:
    async with engine.begin() as conn:
        made = [
            await open_case(conn, _subject(r), actor="c", reason="odd", now=NOW)
            for r in written[:4]
        ]
        for case in (made[0], made[2]):
            await close_case(conn, OPERATOR, case.id, resolution="ok", now=NOW)
        page = await cases_page(conn, status="", page=1)
    assert [c.id for c in page.cases] == [made[1].id, made[3].id, made[2].id, made[0].id]


async def test_migration_0007_downgrades_and_upgrades_again(engine: AsyncEngine) -> None:
    def run(sync_conn: Connection, target: str, down: bool) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync_conn
        (command.downgrade if down else command.upgrade)(config, target)

    names = {"citizen_sessions", "audit_cases", "audit_withholdings"}

    def tables(sync_conn: Connection) -> set[str]:
        return set(inspect(sync_conn).get_table_names()) & names

    async with engine.begin() as conn:
        await conn.run_sync(run, "0006", True)
        assert await conn.run_sync(tables) == set()
        await conn.run_sync(run, script_head(), False)
        assert await conn.run_sync(tables) == names
