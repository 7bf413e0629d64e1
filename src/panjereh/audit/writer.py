"""Group commit for audit records.

Each inquiry awaits its record's commit before the answer leaves (an answered inquiry always
has its record), but many inquiries share one transaction: one fsync per batch instead of one
per inquiry.  One writer task drains the queue, which also suits SQLite's single writer.

Two batches are in flight at most: while one is being stored, the next fills up and is handed
to the store, which links it into the chain (CPU work on the event loop) while the database
is still busy with the first and stores it after.  Before this, the loop sat idle during
every commit and the database during every linking: about 40% of each on PostgreSQL
(docs/benchmarks.md, audit).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from panjereh.audit.payloads import KeptPayloads
from panjereh.audit.records import AuditRecord
from panjereh.domain.errors import PanjerehError

log = logging.getLogger(__name__)


class AuditStore(Protocol):
    async def append(self, records: Sequence[AuditRecord]) -> None:
        """Store all records in one transaction, or none of them (raise).

        The writer may call it again before the previous call returned (at most two calls
        at once); the store commits batches in the order of the calls."""


class PayloadStore(AuditStore, Protocol):
    async def append_with_payloads(
        self, records: Sequence[AuditRecord], payloads: Sequence[KeptPayloads]
    ) -> None:
        """Like `append`, with the kept bodies of some of the records (sealed by the store),
        all in the same transaction."""


class AuditUnavailable(PanjerehError):
    """The audit log could not store a record; the inquiry must not be answered as a success."""


_Item = tuple[AuditRecord, asyncio.Future[None], KeptPayloads | None]


class AuditWriter:
    def __init__(
        self,
        store: AuditStore,
        *,
        batch_size: int = 1000,
        max_queue: int = 100_000,
        commit_delay: float = 0.0,
        siblings: Callable[[], int] | None = None,
        payload_store: PayloadStore | None = None,
    ) -> None:
        """``commit_delay`` (seconds) and ``siblings`` work like PostgreSQL's commit_delay and
        commit_siblings: when a batch is smaller than the number of inquiries in flight
        (``siblings()``), the writer waits ``commit_delay`` for their records before committing,
        so that a moderate load shares commits too (each costs an fsync and a thread hand-off);
        an idle exchange commits at once.

        ``payload_store`` (the same store, when it can seal payloads) takes the batches in
        which some records come with their kept bodies; without one, such records are refused.
        """
        self._store = store
        self._payload_store = payload_store
        self._batch_size = batch_size
        self._commit_delay = commit_delay
        self._siblings = siblings
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue(maxsize=max_queue)
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.failed = 0

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    @property
    def healthy(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="audit-writer")

    async def stop(self) -> None:
        """Write everything queued so far, then end the writer task."""
        if self._task is None:
            return
        await self._queue.put(None)
        await self._task
        self._task = None

    async def record(self, record: AuditRecord, payloads: KeptPayloads | None = None) -> None:
        """Return once ``record`` (and its kept ``payloads``, if given) is committed; raise
        `AuditUnavailable` if it cannot be."""
        if not self.healthy:
            raise AuditUnavailable("the audit writer is not running")
        if payloads is not None and self._payload_store is None:
            log.error("a service keeps payloads but no payload key is configured")
            raise AuditUnavailable("the audit log cannot keep payloads without a payload key")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((record, future, payloads))
        except asyncio.QueueFull:  # back-pressure: wait for room (rare; the queue is deep)
            await self._queue.put((record, future, payloads))
        await future

    async def _run(self) -> None:
        stopping = False
        storing: asyncio.Task[None] | None = None  # the batch before, still being stored
        while not stopping:
            first = await self._queue.get()
            batch: list[_Item] = []
            if first is None:
                stopping = True
            else:
                batch.append(first)
            stopping = self._drain(batch) or stopping
            if not stopping and self._worth_waiting(len(batch)):
                await asyncio.sleep(self._commit_delay)
                stopping = self._drain(batch)
            if batch:
                # Hand this batch over (the store links it now and stores it after the one
                # before), then wait for the one before: two in flight, never more.
                handed = asyncio.get_running_loop().create_task(self._commit(batch))
                if storing is not None:
                    await storing
                storing = handed
        if storing is not None:
            await storing

    def _drain(self, batch: list[_Item]) -> bool:
        """Move queued records into ``batch`` (up to the batch size); True if stop was asked."""
        stopping = False
        while len(batch) < self._batch_size and not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                stopping = True
                continue
            batch.append(item)
        return stopping

    def _worth_waiting(self, batched: int) -> bool:
        if self._commit_delay <= 0 or self._siblings is None or batched == 0:
            return False
        return batched < self._batch_size and self._siblings() > batched

    async def _commit(self, batch: list[_Item]) -> None:
        records = [record for record, _, _ in batch]
        kept = [payloads for _, _, payloads in batch if payloads is not None]
        try:
            if kept and self._payload_store is not None:
                await self._payload_store.append_with_payloads(records, kept)
            else:
                await self._store.append(records)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the waiting inquiries
            self.failed += len(batch)
            log.error(  # noqa: TRY400 - the cause is logged by name; no trace in logs
                "audit batch of %d records failed: %s", len(batch), exc.__class__.__name__
            )
            for _, future, _ in batch:
                if not future.done():
                    future.set_exception(AuditUnavailable("the audit log could not be written"))
            return
        self.written += len(batch)
        for _, future, _ in batch:
            if not future.done():
                future.set_result(None)
