"""The export loop over an outbox and a stream (in memory here; the real ones in
tests/integration/storage/test_audit_stream.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest

from panjereh.audit.export import Published, StreamExport, StreamUnavailable
from panjereh.audit.stream import StreamRecord
from tests.unit.audit.test_stream import chain, numbered


class MemoryBatch:
    def __init__(self, outbox: MemoryOutbox, shard: str, records: Sequence[StreamRecord]):
        self._outbox, self._shard, self.records = outbox, shard, records

    async def advance(self, seq: int) -> None:
        self._outbox.cursors[self._shard] = seq


class MemoryOutbox:
    def __init__(self, shards: dict[str, list[StreamRecord]]) -> None:
        self.shards = shards
        self.cursors = dict.fromkeys(shards, 0)
        self.held: set[str] = set()  # claimed by "another worker"

    async def backlog(self) -> dict[str, int]:
        return {s: len(items) - self.cursors[s] for s, items in self.shards.items()}

    @asynccontextmanager
    async def claim(self, shard: str, limit: int) -> AsyncIterator[MemoryBatch | None]:
        if shard in self.held:
            yield None
            return
        at = self.cursors[shard]
        yield MemoryBatch(self, shard, self.shards[shard][at : at + limit])


class MemoryStream:
    def __init__(self) -> None:
        self.received: list[tuple[str, int]] = []
        self.ids: set[str] = set()
        self.fail_after: int | None = None  # acknowledge this many more, then fail
        self.down = False
        self.opened = 0

    async def open(self) -> None:
        if self.down:
            raise StreamUnavailable("NATS not reachable: ConnectionRefusedError")
        self.opened += 1

    async def publish(self, items: Sequence[StreamRecord]) -> Published:
        acked = duplicates = 0
        for item in items:
            if self.fail_after is not None:
                if self.fail_after == 0:
                    return Published(acked, duplicates, "no acknowledgement in time")
                self.fail_after -= 1
            if item.record.exchange_id in self.ids:
                duplicates += 1
            else:
                self.ids.add(item.record.exchange_id)
                self.received.append((item.shard, item.seq))
            acked += 1
        return Published(acked, duplicates)

    async def close(self) -> None:
        return


def shards() -> dict[str, list[StreamRecord]]:
    a = chain([numbered(n) for n in range(1, 6)], shard="a")
    b = chain([numbered(n) for n in range(11, 14)], shard="b")
    return {"a": a, "b": b}


async def test_one_pass_publishes_every_shard_in_order_and_moves_the_cursors() -> None:
    outbox, stream = MemoryOutbox(shards()), MemoryStream()
    export = StreamExport(outbox, stream, batch_size=10)
    assert await export.export_once() is False
    assert stream.received == [("a", n) for n in range(1, 6)] + [("b", n) for n in range(1, 4)]
    assert outbox.cursors == {"a": 5, "b": 3}
    assert (export.published, export.duplicates, export.lag) == (8, 0, 0)


async def test_batches_are_bounded_and_a_full_batch_asks_for_another_pass() -> None:
    outbox, stream = MemoryOutbox(shards()), MemoryStream()
    export = StreamExport(outbox, stream, batch_size=3)
    assert await export.export_once() is True
    assert outbox.cursors == {"a": 3, "b": 3}
    assert export.lag == 2
    assert await export.export_once() is False
    assert outbox.cursors == {"a": 5, "b": 3}


async def test_a_failure_keeps_the_cursor_at_the_last_acknowledged_record() -> None:
    outbox, stream = MemoryOutbox(shards()), MemoryStream()
    stream.fail_after = 2
    export = StreamExport(outbox, stream, batch_size=10)
    with pytest.raises(StreamUnavailable, match="no acknowledgement in time"):
        await export.export_once()
    assert outbox.cursors == {"a": 2, "b": 0}
    stream.fail_after = None
    await export.export_once()
    assert outbox.cursors == {"a": 5, "b": 3}
    assert stream.received == [("a", n) for n in range(1, 6)] + [("b", n) for n in range(1, 4)]


async def test_a_shard_another_worker_holds_is_left_to_it() -> None:
    outbox, stream = MemoryOutbox(shards()), MemoryStream()
    outbox.held.add("a")
    await StreamExport(outbox, stream).export_once()
    assert outbox.cursors == {"a": 0, "b": 3}
    assert stream.received == [("b", 1), ("b", 2), ("b", 3)]


async def test_a_re_sent_record_counts_as_a_duplicate() -> None:
    outbox, stream = MemoryOutbox(shards()), MemoryStream()
    export = StreamExport(outbox, stream)
    await export.export_once()
    outbox.cursors = {"a": 3, "b": 3}  # as if the cursor update had been lost
    await export.export_once()
    assert (export.published, export.duplicates) == (10, 2)
    assert len(stream.received) == 8


async def test_the_loop_survives_an_outage_and_catches_up() -> None:
    items = shards()
    outbox, stream = MemoryOutbox(items), MemoryStream()
    stream.down = True
    export = StreamExport(outbox, stream, poll_seconds=0.01, backoff=(0.01, 0.02))
    task = asyncio.create_task(export.run())
    try:
        while export.failures < 3:
            await asyncio.sleep(0.005)
        assert outbox.cursors == {"a": 0, "b": 0}
        assert export.connected is False
        stream.down = False
        more = chain([numbered(n) for n in range(1, 8)], shard="a")
        outbox.shards["a"] = more  # records keep coming meanwhile
        for _ in range(200):
            if outbox.cursors == {"a": 7, "b": 3}:
                break
            await asyncio.sleep(0.005)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert outbox.cursors == {"a": 7, "b": 3}
    assert stream.received == [("a", n) for n in range(1, 8)] + [("b", n) for n in range(1, 4)]
    assert export.connected is True
