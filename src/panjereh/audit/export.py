"""The audit stream export: publish every stored record to a stream, at least once, in order
per shard, from a cursor kept beside the records (docs/audit-log.md, "Stream export").

One pass: ask the outbox which shards have records past their cursor; for each, claim it (with
several workers, a shard another worker holds is skipped), read the next batch in sequence
order, publish it and wait for the acknowledgements, then move the cursor past the longest
acknowledged prefix, in the claim's transaction.  A record is never marked published before
the stream acknowledged it, and the cursor never passes a record that was not acknowledged, so
nothing is lost while the stream is down: the backlog stays in the database.  On any failure
the connection is dropped (never reused, so nothing queued on it is sent after a gap), and the
export reconnects with exponential backoff and resumes from the cursor; the records re-sent
then carry the same message id, which the stream de-duplicates.

Nothing here runs on the inquiry path: the export polls the database (``poll_seconds`` when
idle, at once while batches come back full).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from panjereh.audit.stream import StreamRecord
from panjereh.domain.errors import PanjerehError

log = logging.getLogger(__name__)


class StreamUnavailable(PanjerehError):
    """The stream could not be reached or did not acknowledge a record."""


class OutboxBatch(Protocol):
    @property
    def records(self) -> Sequence[StreamRecord]:
        """The shard's next unpublished records, in sequence order."""

    async def advance(self, seq: int) -> None:
        """Mark the shard published up to ``seq`` (committed when the claim ends)."""


class Outbox(Protocol):
    async def backlog(self) -> dict[str, int]:
        """Records not yet published, per shard."""

    def claim(self, shard: str, limit: int) -> AbstractAsyncContextManager[OutboxBatch | None]:
        """The shard's next batch, held against other publishers until the block ends; None
        if another publisher holds it."""


@dataclass(frozen=True, slots=True)
class Published:
    acked: int  # the longest prefix of the batch the stream acknowledged
    duplicates: int  # of those, how many it already had (a re-sent record)
    failure: str | None = None  # why the rest was not acknowledged


class RecordStream(Protocol):
    async def open(self) -> None:
        """Connect, and create the stream if it does not exist."""

    async def publish(self, items: Sequence[StreamRecord]) -> Published:
        """Publish in order; wait for every acknowledgement (or a failure)."""

    async def close(self) -> None: ...


class StreamExport:
    def __init__(
        self,
        outbox: Outbox,
        stream: RecordStream,
        *,
        batch_size: int = 1000,
        poll_seconds: float = 0.25,
        backoff: tuple[float, float] = (0.1, 5.0),
    ) -> None:
        self._outbox = outbox
        self._stream = stream
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._backoff = backoff
        self.connected = False
        self.published = 0  # records acknowledged by the stream, duplicates included
        self.duplicates = 0  # records the stream already had (re-sent after a failure)
        self.failures = 0  # passes that ended in a failure (then a reconnect)
        self.lag = 0  # records not yet published, as of the last pass

    async def run(self) -> None:
        """Export until cancelled; failures pause it (with backoff), never end it."""
        delay = self._backoff[0]
        while True:
            try:
                more = await self.export_once()
            except (PanjerehError, OSError, TimeoutError) as exc:
                self.failures += 1
                why = str(exc) if isinstance(exc, PanjerehError) else exc.__class__.__name__
                log.warning("audit stream export paused (%s); retrying in %.1f s", why, delay)
                await self.disconnect()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff[1])
                continue
            delay = self._backoff[0]
            if not more:
                await asyncio.sleep(self._poll_seconds)

    async def export_once(self) -> bool:
        """One pass over every shard with a backlog; True if a shard has more waiting."""
        backlog = await self._outbox.backlog()
        self.lag = sum(backlog.values())  # measured while the stream is down, too
        waiting = sorted(shard for shard, count in backlog.items() if count > 0)
        if waiting and not self.connected:
            await self._stream.open()
            self.connected = True
        more = False
        for shard in waiting:
            more = await self._export_shard(shard) or more
        return more

    async def _export_shard(self, shard: str) -> bool:
        async with self._outbox.claim(shard, self._batch_size) as batch:
            if batch is None or not batch.records:
                return False
            records = batch.records
            result = await self._stream.publish(records)
            if result.acked:
                await batch.advance(records[result.acked - 1].seq)
        self.published += result.acked
        self.duplicates += result.duplicates
        self.lag = max(self.lag - result.acked, 0)
        if result.failure is not None:
            raise StreamUnavailable(result.failure)
        return len(records) == self._batch_size

    async def disconnect(self) -> None:
        self.connected = False
        await self._stream.close()
