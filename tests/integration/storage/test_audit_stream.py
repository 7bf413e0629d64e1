"""The audit stream export against the real NATS JetStream (PANJEREH_TEST_NATS_URL), on SQLite
and PostgreSQL: records written through the exchange's writer arrive in order per shard,
nothing is lost while NATS is unreachable, and a crash between the acknowledgement and the
cursor update re-publishes records that JetStream de-duplicates.  The consumer is the
documented example (examples/audit_stream_consumer.py), which verifies every chain."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import nats
import nats.js.errors
import pytest
from examples.audit_stream_consumer import Tally, follow, load_state
from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.export import Outbox, OutboxBatch, StreamExport, StreamUnavailable
from panjereh.audit.records import AuditRecord
from panjereh.audit.stream import ChainFollower, StreamRecord, decode, encode
from panjereh.config import Settings
from panjereh.storage.audit_outbox import SqlOutbox
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.engine import create_engine
from panjereh.storage.jetstream import JetStreamRecords
from panjereh.web.app import create_app
from tests.faults import Fault, FaultProxy
from tests.integration.storage.test_audit_outbox import write
from tests.integration.storage.test_audit_verify import _record
from tests.support import free_port, serving
from tests.unit.audit.test_stream import chain, numbered

NATS_ENV = "PANJEREH_TEST_NATS_URL"


@dataclass(frozen=True)
class Names:
    """A stream and subjects of this test's own: tests never see each other's records."""

    stream: str
    prefix: str


@pytest.fixture
def nats_url() -> str:
    url = os.environ.get(NATS_ENV)
    if not url:
        pytest.skip(f"{NATS_ENV} is not set")
    return url


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def names(nc: Client) -> AsyncIterator[Names]:
    token = uuid.uuid4().hex[:12]
    made = Names(f"PANJEREH_TEST_{token}", f"panjereh.test.{token}.records")
    try:
        yield made
    finally:
        with suppress(nats.js.errors.NotFoundError):
            await nc.jetstream().delete_stream(made.stream)


def exporter(
    engine: AsyncEngine,
    url: str,
    names: Names,
    *,
    outbox: Outbox | None = None,
    batch_size: int = 8,
    poll_seconds: float = 0.25,
    backoff: tuple[float, float] = (0.1, 5.0),
) -> StreamExport:
    stream = JetStreamRecords(url, stream=names.stream, subject_prefix=names.prefix)
    return StreamExport(
        SqlOutbox(engine) if outbox is None else outbox,
        stream,
        batch_size=batch_size,
        poll_seconds=poll_seconds,
        backoff=backoff,
    )


async def drain(export: StreamExport) -> None:
    while await export.export_once():
        pass
    await export.export_once()


async def drain_together(engine: AsyncEngine, *exports: StreamExport) -> None:
    """Drain with several exporters at once until nothing waits. One exporter's pass can end
    while another holds a shard's claim (it skips locked shards, as a worker does that polls
    again later), so each round drains all of them, and rounds go on while the outbox still
    has a backlog."""
    for _ in range(20):
        await asyncio.gather(*(drain(export) for export in exports))
        if not any((await SqlOutbox(engine).backlog()).values()):
            return
    raise AssertionError("the exporters left records unpublished")


async def consume(
    js: JetStreamContext,
    names: Names,
    follower: ChainFollower,
    *,
    durable: str | None = None,
    state: Path | None = None,
    idle_seconds: float = 0.0,
) -> Tally:
    return await follow(
        js,
        stream=names.stream,
        subject=f"{names.prefix}.>",
        durable=durable or f"verifier-{uuid.uuid4().hex[:8]}",
        follower=follower,
        state=state,
        idle_seconds=idle_seconds,
        wait_seconds=0.3,
        on_verified=lambda item: None,
    )


async def stored_messages(js: JetStreamContext, names: Names) -> int:
    return int((await js.stream_info(names.stream)).state.messages)


async def heads(store: SqlAuditStore) -> dict[str, list[object]]:
    last: dict[str, list[object]] = {}
    async for s in store.stored_records():
        assert s.shard is not None
        last[s.shard] = [s.seq, s.record_hash]
    return last


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    async with asyncio.timeout(seconds):
        while not await condition():
            await asyncio.sleep(0.02)


def records(first: int, last: int) -> list[AuditRecord]:
    return [_record(n) for n in range(first, last + 1)]


async def test_records_from_two_writers_arrive_in_order_per_shard_and_verify(
    engine: AsyncEngine, store: SqlAuditStore, nats_url: str, nc: Client, names: Names
) -> None:
    other = SqlAuditStore(engine)
    try:
        await asyncio.gather(write(store, records(1, 30)), write(other, records(101, 120)))
    finally:
        await other.close()
    stored = await heads(store)
    mine = next(shard for shard, (seq, _) in stored.items() if seq == 30)
    (theirs,) = set(stored) - {mine}
    export = exporter(engine, nats_url, names)
    await drain(export)
    await export.disconnect()
    assert await SqlOutbox(engine).cursors() == {mine: 30, theirs: 20}
    js = nc.jetstream()
    assert await stored_messages(js, names) == 50
    follower = ChainFollower()
    tally = await consume(js, names, follower)
    by_shard = {s: [n for shard, n in tally.verified if shard == s] for s in (mine, theirs)}
    assert by_shard == {mine: list(range(1, 31)), theirs: list(range(1, 21))}
    assert (tally.duplicates, tally.early, tally.broken, tally.bad) == (0, 0, [], 0)
    assert follower.heads == await heads(store)
    assert (export.published, export.duplicates, export.lag) == (50, 0, 0)
    last = await js.get_last_msg(names.stream, f"{names.prefix}.{mine}")
    assert last.headers is not None
    assert last.data is not None
    item = decode(last.data)
    assert last.headers["Nats-Msg-Id"] == item.record.exchange_id
    assert [item.shard, item.seq, item.record_hash] == [mine, *follower.heads[mine]]


async def test_nothing_is_lost_while_nats_is_unreachable(
    engine: AsyncEngine, store: SqlAuditStore, nats_url: str, nc: Client, names: Names
) -> None:
    upstream = urlsplit(nats_url)
    async with FaultProxy(upstream.port or 4222, upstream_host=upstream.hostname or "") as proxy:
        export = exporter(
            engine,
            f"nats://127.0.0.1:{proxy.port}",
            names,
            batch_size=4,
            poll_seconds=0.02,
            backoff=(0.02, 0.1),
        )
        outbox = SqlOutbox(engine)
        await write(store, records(1, 10))
        (shard,) = await store.registered_shards()
        task = asyncio.create_task(export.run())
        try:
            await until(lambda: _cursor_is(outbox, shard, 10))
            proxy.fault = Fault.DROP  # NATS "goes down": connections cut, new ones refused
            await proxy.cut()
            await write(store, records(11, 25))  # the exchange keeps recording meanwhile
            await until(lambda: _true(export.failures >= 3))
            assert await outbox.cursors() == {shard: 10}
            assert export.lag == 15
            assert await stored_messages(nc.jetstream(), names) == 10
            proxy.fault = Fault.PASS  # back up
            await until(lambda: _cursor_is(outbox, shard, 25))
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            await export.disconnect()
    js = nc.jetstream()
    assert await stored_messages(js, names) == 25
    follower = ChainFollower()
    tally = await consume(js, names, follower)
    assert tally.verified == [(shard, n) for n in range(1, 26)]
    assert (tally.duplicates, tally.broken) == (0, [])
    assert follower.heads == await heads(store)
    assert export.lag == 0


async def _cursor_is(outbox: SqlOutbox, shard: str, seq: int) -> bool:
    return (await outbox.cursors()).get(shard) == seq


async def _true(value: bool) -> bool:
    return value


class _DiesBeforeTheCursorMoves:
    """An outbox whose process dies after the stream acknowledged a batch, before the cursor
    update was committed."""

    def __init__(self, outbox: SqlOutbox) -> None:
        self._outbox = outbox

    async def backlog(self) -> dict[str, int]:
        return await self._outbox.backlog()

    @asynccontextmanager
    async def claim(self, shard: str, limit: int) -> AsyncIterator[OutboxBatch | None]:
        async with self._outbox.claim(shard, limit) as batch:
            yield None if batch is None else _Dying(batch.records)


class _Dying:
    def __init__(self, records: Sequence[StreamRecord]) -> None:
        self.records = records

    async def advance(self, seq: int) -> None:
        raise RuntimeError("the process died before the cursor moved")


async def test_a_crash_before_the_cursor_moved_republishes_and_jetstream_drops_the_copies(
    engine: AsyncEngine, store: SqlAuditStore, nats_url: str, nc: Client, names: Names
) -> None:
    await write(store, records(1, 12))
    (shard,) = await store.registered_shards()
    dying = exporter(engine, nats_url, names, outbox=_DiesBeforeTheCursorMoves(SqlOutbox(engine)))
    with pytest.raises(RuntimeError, match="died"):
        await dying.export_once()
    await dying.disconnect()
    js = nc.jetstream()
    assert await stored_messages(js, names) == 8  # the first batch reached the stream
    assert await SqlOutbox(engine).cursors() == {shard: 0}
    restarted = exporter(engine, nats_url, names)  # a new process, from the cursor
    await drain(restarted)
    await restarted.disconnect()
    assert (restarted.published, restarted.duplicates) == (12, 8)
    assert await stored_messages(js, names) == 12
    assert await SqlOutbox(engine).cursors() == {shard: 12}
    follower = ChainFollower()
    tally = await consume(js, names, follower)
    assert tally.verified == [(shard, n) for n in range(1, 13)]
    assert (tally.duplicates, tally.broken) == (0, [])


async def test_the_server_exports_with_nats_url_set_and_stays_ready_while_nats_is_down(
    engine: AsyncEngine, dev_settings: Settings, nats_url: str, nc: Client, names: Names
) -> None:
    """(``engine`` empties the PostgreSQL test database first.)"""
    refused = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    port = free_port()
    settings = dev_settings.model_copy(
        update={
            "port": port,
            "nats_url": refused,
            "nats_stream": names.stream,
            "nats_subject_prefix": names.prefix,
            "nats_poll_seconds": 0.02,
        }
    )
    app = create_app(settings)
    async with serving(app, port) as url, httpx.AsyncClient(base_url=url) as client:
        runtime = app.runtime
        down = runtime.audit_export
        assert down is not None
        await asyncio.gather(*(runtime.audit.record(r) for r in records(1, 6)))
        await until(lambda: _true(down.failures >= 2 and down.lag == 6))
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")
    assert ready.status_code == 200
    assert "panjereh_audit_export_lag 6.0" in metrics.text.splitlines()
    # The next start, with NATS reachable, publishes what waited in the outbox.
    app = create_app(settings.model_copy(update={"nats_url": nats_url}))
    async with serving(app, port):
        up = app.runtime.audit_export
        assert up is not None
        await until(lambda: _true(up.published == 6 and up.lag == 0))
    follower = ChainFollower()
    tally = await consume(nc.jetstream(), names, follower)
    assert [seq for _, seq in tally.verified] == [1, 2, 3, 4, 5, 6]


async def _publish(js: JetStreamContext, names: Names, items: Sequence[StreamRecord]) -> None:
    for item in items:
        await js.publish(f"{names.prefix}.{item.shard}", encode(item), stream=names.stream)


async def test_the_consumer_waits_for_a_late_record_and_stops_at_a_broken_chain(
    nc: Client, names: Names
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=names.stream, subjects=[f"{names.prefix}.>"])
    one, two, three, four = chain([numbered(n) for n in range(1, 5)])
    altered = dataclasses.replace(four, record=dataclasses.replace(four.record, purpose="x"))
    await _publish(js, names, [two, one, three, altered])
    follower = ChainFollower()
    tally = await consume(js, names, follower, idle_seconds=2.0)
    assert tally.verified == [("w1", 1), ("w1", 2), ("w1", 3)]
    assert tally.early == 3  # two, three and four came before their predecessors once
    assert tally.broken == [("w1", 4)]
    assert follower.heads == {"w1": [3, three.record_hash]}


async def test_the_consumer_resumes_from_its_durable_and_its_state_file(
    nc: Client, names: Names, tmp_path: Path
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=names.stream, subjects=[f"{names.prefix}.>"])
    items = chain([numbered(n) for n in range(1, 6)])
    state = tmp_path / "heads.json"
    await _publish(js, names, items[:3])
    first = await consume(js, names, load_state(state), durable="agency", state=state)
    assert first.verified == [("w1", 1), ("w1", 2), ("w1", 3)]
    await _publish(js, names, items[3:])
    again = load_state(state)
    assert again.heads == {"w1": [3, items[2].record_hash]}
    second = await consume(js, names, again, durable="agency", state=state)
    assert second.verified == [("w1", 4), ("w1", 5)]
    assert second.duplicates == 0
    assert load_state(state).heads == {"w1": [5, items[4].record_hash]}


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.postgres
async def test_two_workers_exporting_at_once_publish_every_record_once(
    engine: AsyncEngine, store: SqlAuditStore, nats_url: str, nc: Client, names: Names
) -> None:
    other = SqlAuditStore(engine)
    try:
        await asyncio.gather(write(store, records(1, 40)), write(other, records(101, 130)))
    finally:
        await other.close()
    second_engine = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        a = exporter(engine, nats_url, names, batch_size=5)
        b = exporter(second_engine, nats_url, names, batch_size=5)
        await drain_together(engine, a, b)
        await asyncio.gather(a.disconnect(), b.disconnect())
    finally:
        await second_engine.dispose()
    assert a.published + b.published == 70
    assert (a.duplicates, b.duplicates) == (0, 0)  # never the same batch twice
    js = nc.jetstream()
    assert await stored_messages(js, names) == 70
    follower = ChainFollower()
    tally = await consume(js, names, follower)
    assert (len(tally.verified), tally.early, tally.duplicates) == (70, 0, 0)
    assert follower.heads == await heads(store)


async def test_a_stream_that_does_not_take_the_records_marks_nothing_published(
    engine: AsyncEngine, store: SqlAuditStore, nats_url: str, nc: Client, names: Names
) -> None:
    """An operator's existing stream is used as it is; if it does not cover the subjects, no
    record is acknowledged, so none is marked published, and the reason is named."""
    await nc.jetstream().add_stream(name=names.stream, subjects=[f"{names.prefix}-other.>"])
    await write(store, records(1, 3))
    (shard,) = await store.registered_shards()
    export = exporter(engine, nats_url, names)
    with pytest.raises(StreamUnavailable) as caught:
        await export.export_once()
    await export.disconnect()
    assert str(caught.value) == "not acknowledged: NoStreamResponseError"
    assert await SqlOutbox(engine).cursors() == {shard: 0}
    assert (export.published, export.lag) == (0, 3)
