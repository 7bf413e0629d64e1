"""Group commit: every inquiry waits for its own record, many share one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from panjereh.audit.records import AuditRecord, Outcome
from panjereh.audit.writer import AuditUnavailable, AuditWriter


def record(n: int) -> AuditRecord:
    return AuditRecord(
        exchange_id=str(n),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        consumer=None,
        service_id=None,
        purpose=None,
        subject_hash=None,
        outcome=Outcome.OK,
        status_code=200,
        error_type=None,
        duration_ms=0.1,
        request_hash=None,
        response_hash=None,
    )


class MemoryStore:
    def __init__(self, *, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    async def append(self, records: Sequence[AuditRecord]) -> None:
        await asyncio.sleep(0.005)  # a commit takes time; others queue up meanwhile
        if self.fail:
            raise OSError("disk full")
        self.batches.append([r.exchange_id for r in records])


async def test_concurrent_records_share_batches_and_all_are_written() -> None:
    store = MemoryStore()
    writer = AuditWriter(store, batch_size=50)
    writer.start()
    await asyncio.gather(*(writer.record(record(n)) for n in range(200)))
    await writer.stop()
    written = [x for batch in store.batches for x in batch]
    assert sorted(written, key=int) == [str(n) for n in range(200)]
    assert len(store.batches) < 200 / 2  # grouped, not one commit each
    assert max(len(b) for b in store.batches) <= 50
    assert writer.written == 200


async def test_a_failed_commit_reaches_every_waiting_inquiry() -> None:
    writer = AuditWriter(MemoryStore(fail=True))
    writer.start()
    results = await asyncio.gather(
        *(writer.record(record(n)) for n in range(10)), return_exceptions=True
    )
    assert all(isinstance(r, AuditUnavailable) for r in results)
    assert writer.failed == 10
    assert writer.healthy  # the writer goes on; the next batch may succeed
    await writer.stop()


async def test_a_writer_that_is_not_running_refuses_records() -> None:
    writer = AuditWriter(MemoryStore())
    with pytest.raises(AuditUnavailable):
        await writer.record(record(1))


async def test_stop_writes_what_was_queued() -> None:
    store = MemoryStore()
    writer = AuditWriter(store)
    writer.start()
    pending = [asyncio.create_task(writer.record(record(n))) for n in range(5)]
    await asyncio.sleep(0)
    await writer.stop()
    await asyncio.gather(*pending)
    assert sum(len(b) for b in store.batches) == 5
    assert not writer.healthy


class InstantStore:
    """Commits take no time: without a commit delay, records arriving apart commit apart."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def append(self, records: Sequence[AuditRecord]) -> None:
        self.batches.append([r.exchange_id for r in records])


async def _staggered(writer: AuditWriter, count: int, gap: float) -> None:
    async def one(n: int) -> None:
        await asyncio.sleep(n * gap)
        await writer.record(record(n))

    await asyncio.gather(*(one(n) for n in range(count)))


async def test_with_inquiries_in_flight_the_writer_waits_for_their_records() -> None:
    """Three inquiries in flight, their records 2 ms apart: one commit, not three."""
    store = InstantStore()
    writer = AuditWriter(store, commit_delay=0.05, siblings=lambda: 3)
    writer.start()
    await _staggered(writer, 3, 0.002)
    await writer.stop()
    assert store.batches == [["0", "1", "2"]]


async def test_without_a_delay_or_siblings_each_record_commits_at_once() -> None:
    for writer_args in ({"commit_delay": 0.0, "siblings": lambda: 3}, {"commit_delay": 0.05}):
        store = InstantStore()
        writer = AuditWriter(store, **writer_args)
        writer.start()
        await _staggered(writer, 3, 0.01)
        await writer.stop()
        assert store.batches == [["0"], ["1"], ["2"]]


async def test_an_inquiry_alone_in_flight_is_not_delayed() -> None:
    """A batch already holding every inquiry in flight commits at once."""
    store = InstantStore()
    writer = AuditWriter(store, commit_delay=5.0, siblings=lambda: 1)
    writer.start()
    started = asyncio.get_running_loop().time()
    await writer.record(record(0))
    waited = asyncio.get_running_loop().time() - started
    await writer.stop()
    assert store.batches == [["0"]]
    assert waited < 5.0  # the delay (5 s) was not taken
