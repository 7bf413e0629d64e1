"""The NATS JetStream side of the audit stream export (implements
`panjereh.audit.export.RecordStream`), with the maintained client nats-py.

One connection, without nats-py's own reconnects: after any failure the export drops it and
opens a new one, so no message queued on a broken connection is sent later, after records
that follow it.  Each record is published with ``Nats-Msg-Id`` = its exchange id (JetStream
drops a copy it already has within the stream's duplicate window) and
``Nats-Expected-Stream`` = the stream's name (the server refuses it if the subject belongs to
another stream).  A batch is published pipelined and its acknowledgements awaited together
(about twice as fast as one at a time here; docs/audit-log.md has the numbers).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import nats.errors
import nats.js.errors
import orjson
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import PubAck, StorageType

from panjereh.audit.export import Published, StreamUnavailable
from panjereh.audit.stream import StreamRecord, encode

log = logging.getLogger(__name__)

DUPLICATE_WINDOW_SECONDS = 120.0  # JetStream's default; a crashed export resumes within it
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$", re.ASCII)
_ERRORS = (nats.errors.Error, OSError, TimeoutError)


class JetStreamRecords:
    def __init__(
        self,
        url: str,
        *,
        stream: str,
        subject_prefix: str,
        ack_timeout: float = 5.0,
        connect_timeout: float = 2.0,
    ) -> None:
        self._servers = [part.strip() for part in url.split(",") if part.strip()]
        self.stream = stream
        self.subject_prefix = subject_prefix
        self._ack_timeout = ack_timeout
        self._connect_timeout = connect_timeout
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None

    def subject(self, shard: str) -> str:
        if not _TOKEN.match(shard):
            raise StreamUnavailable("a shard id that is not a valid subject token")
        return f"{self.subject_prefix}.{shard}"

    async def open(self) -> None:
        await self.close()
        self._nc = Client()
        limit = self._connect_timeout * 2 * len(self._servers) + self._ack_timeout
        try:
            async with asyncio.timeout(limit):
                await _connect(
                    self._nc, self._servers, self._connect_timeout, "panjereh-audit-export"
                )
                self._js = self._nc.jetstream(timeout=self._ack_timeout)
                await self._ensure_stream(self._js)
        except _ERRORS as exc:
            await self.close()
            raise StreamUnavailable(f"NATS not reachable: {exc.__class__.__name__}") from exc

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        """Create the stream if it is missing; an existing one is used as it is (an operator
        may have set its retention or replicas)."""
        try:
            await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(
                name=self.stream,
                subjects=[f"{self.subject_prefix}.>"],
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
                description="Panjereh audit records (panjereh.audit.stream/1)",
            )
            log.info("audit stream %s created", self.stream)

    async def publish(self, items: Sequence[StreamRecord]) -> Published:
        js = self._js
        if js is None:
            raise StreamUnavailable("not connected")
        futures: list[asyncio.Future[PubAck]] = []
        failure: str | None = None
        try:
            async with asyncio.timeout(self._ack_timeout):  # never stuck on a stalled server
                for item in items:
                    futures.append(
                        await js.publish_async(
                            self.subject(item.shard),
                            encode(item),
                            headers={"Nats-Msg-Id": item.record.exchange_id},
                            stream=self.stream,
                        )  # no wait_stall: with one, every publish would spawn a task
                    )
        except (*_ERRORS, StreamUnavailable) as exc:
            failure = f"publish failed: {exc.__class__.__name__}"
        if futures:
            await asyncio.wait(futures, timeout=self._ack_timeout)
        acked, duplicates, in_prefix = 0, 0, True
        for future in futures:
            if not future.done():
                future.cancel()  # no acknowledgement in time
            ok = not future.cancelled() and future.exception() is None  # every error read
            if in_prefix and ok:
                acked += 1
                duplicates += bool(future.result().duplicate)
            elif in_prefix:
                in_prefix = False
                failure = failure or _why(future)
        return Published(acked, duplicates, failure if acked < len(items) else None)

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        await _close(nc)


def _why(future: asyncio.Future[PubAck]) -> str:
    if future.cancelled():
        return "no acknowledgement in time"
    exc = future.exception()
    if isinstance(exc, nats.js.errors.APIError):
        return f"refused by JetStream: {exc.description or exc.code}"
    return f"not acknowledged: {exc.__class__.__name__}"


async def _connect(nc: Client, servers: list[str], connect_timeout: float, name: str) -> None:
    """One connection attempt per server, no reconnecting (the callers have their own backoff).

    nats-py tries each server again after a failed first connect (max_reconnect_attempts
    counts those tries; 0 would mean forever)."""
    await nc.connect(
        servers=servers,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0,
        connect_timeout=max(1, round(connect_timeout)),
        error_cb=_quiet,
        name=name,
    )


async def _close(nc: Client | None) -> None:
    if nc is not None and not nc.is_closed:
        try:
            await nc.close()
        except _ERRORS as exc:
            log.debug("closing the NATS connection: %s", exc.__class__.__name__)


async def _quiet(exc: Exception) -> None:
    """nats-py's default logs every connection error with a traceback; the export logs one
    line when it pauses."""
    log.debug("NATS: %s", exc.__class__.__name__)


HEADS_SUBJECT_PREFIX = (
    "panjereh.audit"  # heads on <prefix>.heads, checkpoints on <prefix>.checkpoints
)
MAX_PENDING = 10_000  # documents kept while NATS is down (a head every 0.25 s: ~40 minutes)


def message_id(document: Mapping[str, Any]) -> str:
    """``Nats-Msg-Id`` of a published head or checkpoint: a copy sent twice (a retry after a
    lost acknowledgement) is dropped by JetStream within its duplicate window."""
    if document.get("kind") == "checkpoint":
        return f"checkpoint:{document.get('number')}"
    closing = "closing" if document.get("closing") else "open"
    return f"head:{document.get('shard')}:{document.get('seq')}:{closing}"


class JetStreamPublication:
    """Publishes each signed head and checkpoint to JetStream (docs/audit-log.md, "Signed
    heads"), best effort, next to the folder (which stays the record of publication).

    ``publish`` only queues (the writer never waits for NATS); ``run`` sends in order, each
    acknowledged before the next, on ``panjereh.audit.heads`` / ``panjereh.audit.checkpoints``
    (``subject_prefix``: ``panjereh.audit``) in the stream ``stream`` (created if missing).
    A failure is one log line and a count in ``failed``
    (``panjereh_audit_publication_failures_total{target="nats"}``); the document stays queued
    and is sent again after ``retry_seconds``.  Beyond ``MAX_PENDING`` waiting documents
    the oldest is dropped, counted and logged."""

    def __init__(
        self,
        url: str,
        *,
        stream: str,
        subject_prefix: str = HEADS_SUBJECT_PREFIX,
        ack_timeout: float = 5.0,
        connect_timeout: float = 2.0,
        retry_seconds: float = 1.0,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._servers = [part.strip() for part in url.split(",") if part.strip()]
        self.stream = stream
        self.subjects = {
            "head": f"{subject_prefix}.heads",
            "checkpoint": f"{subject_prefix}.checkpoints",
        }
        self._ack_timeout = ack_timeout
        self._connect_timeout = connect_timeout
        self._retry_seconds = retry_seconds
        self._max_pending = max_pending
        self._pending: deque[dict[str, Any]] = deque()
        self._wake = asyncio.Event()
        self._sending = asyncio.Lock()  # run and a shutdown's drain never send the same one
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self.failed = 0  # failed attempts and dropped documents (running total)
        self.sent = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def publish(self, documents: Sequence[Mapping[str, Any]]) -> None:
        for document in documents:
            if len(self._pending) >= self._max_pending:
                self._pending.popleft()
                self.failed += 1
                log.error("audit head publication to NATS: queue full, the oldest dropped")
            self._pending.append(dict(document))
        self._wake.set()

    async def run(self) -> None:
        """Send what is queued, forever (cancel to stop)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                if not await self._send_first():
                    await asyncio.sleep(self._retry_seconds)

    async def drain(self, timeout: float) -> bool:
        """Send what is queued (at shutdown, after the closing head); True if all went."""
        try:
            async with asyncio.timeout(timeout):
                while self._pending:
                    if not await self._send_first():
                        return False
        except TimeoutError:
            return False
        return True

    async def _send_first(self) -> bool:
        async with self._sending:
            return await self._send_first_unlocked()

    async def _send_first_unlocked(self) -> bool:
        if not self._pending:
            return True
        document = self._pending[0]
        try:
            js = self._js if self._js is not None else await self._open()
            async with asyncio.timeout(self._ack_timeout):
                await js.publish(
                    self.subjects.get(str(document.get("kind")), self.subjects["head"]),
                    orjson.dumps(document),
                    headers={"Nats-Msg-Id": message_id(document)},
                    stream=self.stream,
                )
        except (*_ERRORS, nats.js.errors.Error) as exc:
            self.failed += 1
            log.error(  # noqa: TRY400 - named, no trace
                "audit head publication to NATS failed: %s (the folder keeps it; retrying)",
                exc.__class__.__name__,
            )
            await self.close()
            return False
        self._pending.popleft()
        self.sent += 1
        return True

    async def _open(self) -> JetStreamContext:
        nc = Client()
        self._nc = nc
        await _connect(nc, self._servers, self._connect_timeout, "panjereh-audit-heads")
        js = nc.jetstream(timeout=self._ack_timeout)
        try:
            await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(
                name=self.stream,
                subjects=list(self.subjects.values()),
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
                description="Panjereh signed audit heads and checkpoints",
            )
            log.info("audit heads stream %s created", self.stream)
        self._js = js
        return js

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        await _close(nc)
