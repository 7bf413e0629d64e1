"""`panjereh.storage.audit_browse` on SQLite and PostgreSQL: a provider agency's records read
one branch per service (each from its index) come out exactly as one IN list would give them,
page after page."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.storage.audit_browse import (
    MAX_BRANCHES,
    RecordCursor,
    RecordQuery,
    _records_query,
    records_page,
)
from panjereh.storage.audit_repo import SqlAuditStore
from tests.support import RECORD

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
SERVICES = ("a.one.v1", "a.two.v1", "a.three.v1")


async def _write(engine: AsyncEngine) -> None:
    records = [
        dataclasses.replace(
            RECORD,
            exchange_id=f"0190f3c2-5555-7000-8000-{n:012d}",
            created_at=T0 + timedelta(seconds=n // 2),  # pairs share an instant
            service_id=(*SERVICES, "b.other.v1")[n % 4],
            consumer=("x/one", "y/two")[n % 3 % 2],
        )
        for n in range(40)
    ]
    store = SqlAuditStore(engine)
    try:
        await store.append(records)
    finally:
        await store.close()


async def _walk(engine: AsyncEngine, query: RecordQuery, limit: int) -> list[str]:
    seen: list[str] = []
    after: RecordCursor | None = None
    async with engine.connect() as conn:
        while True:
            page = await records_page(conn, query, after=after, limit=limit)
            seen += [r["exchange_id"] for r in page.rows]
            if page.next is None:
                return seen
            after = RecordCursor.decode(page.next)


def _expected(query_filter: object = None) -> list[str]:
    numbers = [n for n in range(40) if n % 4 != 3]
    if query_filter == "x/one":
        numbers = [n for n in numbers if n % 3 % 2 == 0]
    # Newest first: by time (n // 2), then by row id (written in order of n).
    return [f"0190f3c2-5555-7000-8000-{n:012d}" for n in sorted(numbers, reverse=True)]


async def test_a_provider_agencys_records_come_newest_first_from_one_branch_per_service(
    engine: AsyncEngine,
) -> None:
    await _write(engine)
    query = RecordQuery(provider_services=SERVICES)
    assert "UNION ALL" in str(_records_query(query, None, 5))
    for limit in (1, 4, 7, 50):
        assert await _walk(engine, query, limit) == _expected()
    narrowed = RecordQuery(provider_services=SERVICES, consumer="x/one")
    assert await _walk(engine, narrowed, 3) == _expected("x/one")


async def test_an_agency_with_very_many_services_is_read_with_one_in_list(
    engine: AsyncEngine,
) -> None:
    await _write(engine)
    many = (*SERVICES, *(f"a.more{i}.v1" for i in range(MAX_BRANCHES)))
    query = RecordQuery(provider_services=many)
    assert "UNION ALL" not in str(_records_query(query, None, 5))
    assert await _walk(engine, query, 6) == _expected()
    assert await _walk(engine, RecordQuery(provider_services=()), 6) == []


async def test_every_filter_pages_the_log_in_time_order(
    engine: AsyncEngine,
) -> None:
    """A record written after another but made a little earlier (two workers' batches):
    newest first by time whatever the filter (the walk by time, migration 0011, or a
    filter's own index)."""
    early, late = T0, T0 + timedelta(milliseconds=5)
    store = SqlAuditStore(engine)
    try:
        await store.append([dataclasses.replace(RECORD, exchange_id="w1", created_at=late)])
        await store.append([dataclasses.replace(RECORD, exchange_id="w2", created_at=early)])
    finally:
        await store.close()
    by_time = ["w1", "w2"]
    end = T0 + timedelta(seconds=1)
    cases = {
        RecordQuery(): by_time,
        RecordQuery(outcome="ok", since=T0): by_time,
        RecordQuery(consumer=RECORD.consumer or ""): by_time,
        RecordQuery(service_id=RECORD.service_id or ""): by_time,
        RecordQuery(subject_hashes=(RECORD.subject_hash or "",)): by_time,
        RecordQuery(until=end): by_time,
    }
    for query, expected in cases.items():
        assert await _walk(engine, query, 1) == expected, query
