"""Everything a server process builds at start-up and tears down at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.checkpoints import Checkpoint
from panjereh.audit.export import StreamExport
from panjereh.audit.payloads import PayloadKeys
from panjereh.audit.publish import FolderPublication, Publications, checkpoint_document
from panjereh.audit.subjects import SubjectKeys
from panjereh.audit.writer import AuditWriter
from panjereh.config import ConfigError, Settings, resolve_payload_keys, resolve_subject_keys
from panjereh.domain.clock import Clock
from panjereh.domain.throttle import Throttle
from panjereh.exchange.asgi import InquiryEndpoint
from panjereh.exchange.callers import Authenticator
from panjereh.exchange.egress import EgressRules
from panjereh.exchange.inquiry import InquiryHandler
from panjereh.exchange.keys import ExchangeKeys, keys_from_settings, load_keys
from panjereh.exchange.metrics import ExchangeMetrics, Readings
from panjereh.exchange.provider import ProviderGateway
from panjereh.exchange.resilience import AdmissionControl
from panjereh.exchange.transport import ProviderTransport
from panjereh.registry.model import Service, System
from panjereh.registry.snapshot import SnapshotHolder
from panjereh.storage.audit_outbox import SqlOutbox
from panjereh.storage.audit_repo import HeadPolicy, SqlAuditStore
from panjereh.storage.checkpoints_repo import CutRefused, create_checkpoint
from panjereh.storage.engine import create_engine
from panjereh.storage.jetstream import JetStreamPublication, JetStreamRecords
from panjereh.storage.migrate import ensure_current
from panjereh.storage.partitions import ensure_partitions
from panjereh.storage.registry_repo import load_snapshot, record_key_usage, registry_version
from panjereh.storage.state import ExchangeState, build_state
from panjereh.storage.throttle import build_throttle
from panjereh.web.egress import own_servers
from panjereh.web.http_guard import HttpGuard
from panjereh.web.security_headers import transport_headers
from panjereh.web.serving import http_limits

log = logging.getLogger(__name__)

PUBLICATION_DRAIN_SECONDS = 3.0  # at shutdown, for the last heads and checkpoint to reach NATS
REFRESH_SECONDS = 0.25  # registry changes reach every worker well within a second
AUDIT_QUEUE_MAX = 100_000
AUDIT_QUEUE_NEAR_FULL = AUDIT_QUEUE_MAX * 9 // 10  # /readyz fails from here on
READINESS_CACHE_SECONDS = 1.0  # probes never hammer the database or Redis
CHECK_TIMEOUT_SECONDS = 1.0
METRICS_PUBLISH_SECONDS = 1.0  # with several workers: how stale the aggregate may be
PARTITIONS_SECONDS = 86_400.0  # audit partitions are made months ahead: daily is plenty


def multiprocess_metrics_dir(settings: Settings) -> Path | None:
    """Where several workers keep their metrics files (PROMETHEUS_MULTIPROC_DIR); None for
    one worker."""
    return (settings.data_dir / "metrics").resolve() if settings.workers > 1 else None


def exchange_keys(settings: Settings, clock: Clock) -> ExchangeKeys:
    """The exchange's signing keys: from settings if given, else the keys folder (the first
    key is made there on first use)."""
    if settings.exchange_signing_key is not None and settings.exchange_signing_key_id:
        pem = settings.exchange_signing_key.get_secret_value().encode("utf-8")
        return keys_from_settings(
            pem, settings.exchange_signing_key_id, settings.effective_keys_dir
        )
    return load_keys(settings.effective_keys_dir, clock.now())


def audit_export(settings: Settings, engine: AsyncEngine) -> StreamExport | None:
    """The JetStream export of the audit log, when PANJEREH_NATS_URL is set."""
    if settings.nats_url is None:
        return None
    stream = JetStreamRecords(
        settings.nats_url, stream=settings.nats_stream, subject_prefix=settings.nats_subject_prefix
    )
    return StreamExport(
        SqlOutbox(engine),
        stream,
        batch_size=settings.nats_batch_size,
        poll_seconds=settings.nats_poll_seconds,
    )


class _KeysHolder:
    """The exchange's current keys; replaced whole when the keys folder changes."""

    def __init__(self, keys: ExchangeKeys) -> None:
        self.keys = keys
        self.seen: tuple[str, ...] = ()
        self._jwks: tuple[ExchangeKeys, Mapping[str, Any]] | None = None

    def get(self) -> ExchangeKeys:
        return self.keys

    def jwks(self) -> Mapping[str, Any]:
        if self._jwks is None or self._jwks[0] is not self.keys:
            self._jwks = (self.keys, self.keys.jwks())
        return self._jwks[1]


def freeze_startup_heap() -> None:
    """Take what start-up made (modules, the snapshot, compiled schemas) out of the garbage
    collector's view: it lives as long as the process, and every full collection would walk
    it again (tens of ms, a pause every inquiry in flight waits through).  For a serving
    process only: tests start many runtimes in one process."""
    gc.collect()
    gc.freeze()


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    pepper: bytes
    engine: AsyncEngine
    registry: SnapshotHolder
    audit_store: SqlAuditStore
    audit: AuditWriter
    subject_keys: SubjectKeys  # hashes national codes for the audit log and its views
    transport: ProviderTransport
    inquiry: InquiryEndpoint
    handler: InquiryHandler
    keys_holder: _KeysHolder
    state: ExchangeState
    metrics: ExchangeMetrics
    throttle: Throttle  # the sign-in throttle of every sign-in (domain/throttle.py)
    audit_export: StreamExport | None = None  # with PANJEREH_NATS_URL (docs/audit-log.md)
    # signed heads and checkpoints to JetStream, with PANJEREH_NATS_URL ("Signed heads")
    audit_publication: JetStreamPublication | None = None
    payload_keys: PayloadKeys | None = None  # seals the bodies services keep (None: no key)
    # The HTTP protocol's limits and tallies in this process (web/http_guard.py).
    http_guard: HttpGuard = field(default_factory=HttpGuard)
    audit_cut: str | None = None  # why the last checkpoint was refused (a cut tail), if so
    audit_cut_alarms: int = 0
    _pinned: dict[str, tuple[int, str]] = field(default_factory=dict, repr=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, repr=False)
    _checked: dict[str, tuple[float, bool]] = field(default_factory=dict, repr=False)
    _checking: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock, pepper: bytes) -> Runtime:
        engine = create_engine(settings.effective_database_url)
        keys = exchange_keys(settings, clock)
        registry = SnapshotHolder()
        payload_keys = resolve_payload_keys(settings)
        holder = _KeysHolder(keys)
        publications = Publications([])
        heads = HeadPolicy(
            signer=lambda: (holder.keys.active_id, holder.keys.private_key.sign),
            clock=clock,
            seconds=settings.audit_head_seconds,
            lease_seconds=settings.audit_lease_seconds,
            publications=publications,
        )
        store = SqlAuditStore(engine, payload_keys=payload_keys, heads=heads)
        if settings.audit_publish_dir is not None:  # one file per writer: no two append to one
            publications.targets.append(FolderPublication(settings.audit_publish_dir, store.shard))
        nats_publication = None
        if settings.nats_url is not None:  # best effort, queued: the writer never waits for it
            nats_publication = JetStreamPublication(
                settings.nats_url,
                stream=settings.nats_heads_stream,
                subject_prefix=settings.nats_heads_subject_prefix,
            )
            publications.targets.append(nats_publication)
        admission = AdmissionControl(settings.max_in_flight)
        audit = AuditWriter(
            store,
            batch_size=settings.audit_batch_size,
            max_queue=AUDIT_QUEUE_MAX,
            commit_delay=settings.audit_commit_delay_ms / 1000,
            siblings=lambda: admission.in_flight,
            payload_store=store if payload_keys is not None else None,
        )
        metrics = ExchangeMetrics(multiprocess_dir=multiprocess_metrics_dir(settings))
        transport = ProviderTransport(
            egress=EgressRules(allow_private=settings.allow_private_endpoints)
        )
        state = build_state(settings.redis_url, clock=clock)
        subjects = resolve_subject_keys(settings, pepper)
        handler = InquiryHandler(
            registry=registry,
            authenticator=Authenticator(
                registry=registry,
                pepper=pepper,
                clock=clock,
                trusted_proxies=settings.trusted_proxies,
            ),
            gateway=ProviderGateway(
                transport=transport,
                keys=holder.get,
                default_timeout=settings.provider_timeout,
                concurrency=settings.provider_concurrency,
                retry_attempts=settings.provider_attempts,
            ),
            audit=audit,
            limiter=state.limiter,
            idempotency=state.idempotency,
            cache=state.cache,
            admission=admission,
            keys=holder.get,
            subjects=subjects,
            clock=clock,
            metrics=metrics,
        )
        return cls(
            settings=settings,
            clock=clock,
            pepper=pepper,
            subject_keys=subjects,
            engine=engine,
            registry=registry,
            audit_store=store,
            audit=audit,
            transport=transport,
            inquiry=InquiryEndpoint(
                handler,
                max_body=settings.max_request_bytes,
                headers=transport_headers(settings.effective_public_url),
            ),
            handler=handler,
            keys_holder=holder,
            state=state,
            metrics=metrics,
            throttle=build_throttle(engine, state.redis, pepper=pepper),
            audit_export=audit_export(settings, engine),
            audit_publication=nats_publication,
            payload_keys=payload_keys,
            http_guard=HttpGuard(
                http_limits(settings),
                extra_headers=transport_headers(settings.effective_public_url),
            ),
        )

    @property
    def keys(self) -> ExchangeKeys:
        return self.keys_holder.keys

    def published_keys(self) -> Mapping[str, Any]:
        """The JWKS of ``GET /exchange/v1/keys``; the same object until the keys change."""
        return self.keys_holder.jwks()

    def reload_keys(self) -> None:
        """Pick up a rotation made by `panjereh exchange rotate-key` while serving."""
        folder = self.settings.effective_keys_dir
        try:
            seen = tuple(sorted(p.name for p in folder.glob("*.*")))
        except OSError:
            return
        if seen != self.keys_holder.seen:
            self.keys_holder.keys = exchange_keys(self.settings, self.clock)
            if self.keys_holder.seen:
                log.info("exchange signing keys reloaded; active %s", self.keys.active_id)
            self.keys_holder.seen = seen

    async def start(self) -> None:
        await ensure_current(self.engine)
        self.registry.replace(await load_snapshot(self.engine))
        self.check_kept_payloads()
        self.transport.protect(await own_servers(self.settings, self.transport.dialer.resolve))
        await self.transport.start()
        await self.audit_store.close_gone()  # shards of writers that are gone (a crash)
        self.audit.start()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._heads_forever(), name="audit-heads"),
            loop.create_task(self._refresh_forever(), name="registry-refresh"),
            loop.create_task(self._flush_usage_forever(), name="usage-flush"),
            loop.create_task(self._checkpoint_forever(), name="audit-checkpoints"),
            loop.create_task(self._partitions_forever(), name="audit-partitions"),
        ]
        if self.metrics.multiprocess_dir is not None:
            self._tasks.append(loop.create_task(self._publish_forever(), name="metrics-publish"))
        if self.audit_export is not None:  # never blocks start-up: NATS may be down
            self._tasks.append(loop.create_task(self.audit_export.run(), name="audit-export"))
        if self.audit_publication is not None:
            self._tasks.append(
                loop.create_task(self.audit_publication.run(), name="audit-heads-publication")
            )

    def check_kept_payloads(self) -> None:
        """Refuse to serve services that keep payloads without a key to seal them with."""
        refuse_unsealed_payloads(self.registry.current.services.values(), self.payload_keys)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self.audit_export is not None:  # what is not yet published waits in the outbox
            await self.audit_export.disconnect()
        await self.flush_usage()
        await self.audit.stop()
        try:  # close this writer's shard, then pin it: its last records are in a checkpoint
            await self.audit_store.close_shard()
            await self.checkpoint()
        except (SQLAlchemyError, OSError) as exc:
            log.warning(
                "audit closing head or checkpoint at shutdown failed: %s", exc.__class__.__name__
            )
        await self.audit_store.close()
        if self.audit_publication is not None:  # the closing head and last checkpoint too
            if not await self.audit_publication.drain(PUBLICATION_DRAIN_SECONDS):
                log.warning(
                    "%d audit heads or checkpoints not published to NATS at shutdown (the "
                    "folder has them)",
                    self.audit_publication.pending,
                )
            await self.audit_publication.close()
        if self.audit_store.heads is not None and self.audit_store.heads.publications:
            self.audit_store.heads.publications.close()
        self.metrics.publish(self.metrics_readings())
        self.metrics.close()
        await self.transport.close()
        await self.state.close()
        await self.engine.dispose()

    async def flush_usage(self) -> None:
        auth = self.handler.authenticator
        usage, auth.key_usage = auth.key_usage, {}
        try:
            await record_key_usage(self.engine, usage)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("usage flush failed: %s", exc.__class__.__name__)
            for key_id, at in usage.items():  # keep them for the next try
                auth.key_usage.setdefault(key_id, at)

    async def _flush_usage_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.usage_flush_seconds)
            await self.flush_usage()

    async def checkpoint(self) -> Checkpoint | None:
        """Sign and store the next audit checkpoint now (None if nothing was added, or if it
        was refused because a tail was cut: then the alarm is raised, `raise_cut_alarm`)."""
        keys = self.keys
        floors = dict(self._pinned)
        own = self.audit_store.committed_head()
        if own is not None:
            shard, seq, head = own
            if seq >= floors.get(shard, (0, ""))[0]:
                floors[shard] = (seq, head)
        try:
            made = await create_checkpoint(
                self.engine,
                key_id=keys.active_id,
                sign=keys.private_key.sign,
                now=self.clock.now(),
                floors=floors,
            )
        except CutRefused as exc:
            self.raise_cut_alarm(exc)
            return None
        if made is not None:
            self._pinned.update(made.heads)
            publications = self.audit_store.heads.publications if self.audit_store.heads else None
            if publications is not None:
                await publications.publish([checkpoint_document(made)])
        return made

    def raise_cut_alarm(self, refused: CutRefused) -> None:
        """A checkpoint refused over a cut tail: logged at error, counted
        (panjereh_audit_cut_alarms_total), and /readyz fails with the reason."""
        self.audit_cut_alarms += 1
        self.audit_cut = str(refused)
        log.error("audit checkpoint refused, the log was cut: %s", refused)

    async def _heads_forever(self) -> None:
        """Sign a waiting tail's head when it is due, renew the writer's lease."""
        store = self.audit_store
        while True:
            await asyncio.sleep(max(0.005, store.head_due_in()))
            try:
                await store.tick()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("audit head or lease not written: %s", exc.__class__.__name__)

    async def _checkpoint_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.audit_checkpoint_seconds)
            try:
                await self.checkpoint()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("audit checkpoint failed: %s", exc.__class__.__name__)

    async def _partitions_forever(self) -> None:
        """This month's audit partition and the next ones exist before records arrive
        (PostgreSQL; storage/partitions.py): now, then once a day."""
        while True:
            try:
                made = await ensure_partitions(self.engine, self.clock.now())
                if made:
                    log.info("audit partitions created: %s", ", ".join(made))
            except (SQLAlchemyError, OSError) as exc:
                log.warning("audit partitions not ensured: %s", exc.__class__.__name__)
            await asyncio.sleep(PARTITIONS_SECONDS)

    async def _refresh_forever(self) -> None:
        """Poll the registry's version row; rebuild the snapshot when it moved."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            self.reload_keys()
            try:
                version = await registry_version(self.engine)
                if version != self.registry.current.version:
                    self.registry.replace(await load_snapshot(self.engine))
                    log.info("registry snapshot refreshed to version %d", version)
                    try:
                        self.check_kept_payloads()
                    except ConfigError as exc:  # their inquiries are refused (not recorded)
                        log.error("%s", exc)  # noqa: TRY400 - a configuration problem, no trace
            except (SQLAlchemyError, OSError) as exc:
                log.warning("registry refresh failed: %s", exc.__class__.__name__)

    # Metrics and readiness ----------------------------------------------------------------

    def metrics_readings(self) -> Readings:
        gateway = self.handler.gateway
        admission = self.handler.admission
        systems = self.registry.current.systems
        return Readings(
            audit_written=self.audit.written,
            audit_failed=self.audit.failed,
            audit_queue_depth=self.audit.queue_depth,
            in_flight=admission.in_flight,
            shed=admission.refused,
            snapshot_version=self.registry.current.version,
            bulkheads_in_use={
                _system_name(systems, key): n for key, n in gateway.bulkheads.in_use().items()
            },
            circuits={
                _system_name(systems, key): state
                for key, state in gateway.breakers.states().items()
            },
            audit_export_lag=None if self.audit_export is None else self.audit_export.lag,
            http_receiving=self.http_guard.receiving,
            http_refused=self.http_guard.refused,
            audit_cut_alarms=self.audit_cut_alarms,
            audit_publication_failures=self._publication_failures(),
        )

    def _publication_failures(self) -> dict[str, int]:
        heads = self.audit_store.heads
        found: dict[str, int] = {}
        if heads is not None and heads.publications is not None:
            found["folder"] = heads.publications.failed
        if self.audit_publication is not None:
            found["nats"] = self.audit_publication.failed
        return found

    def metrics_text(self) -> bytes:
        """/metrics: this worker's tallies published now, then every worker's metrics."""
        self.metrics.publish(self.metrics_readings())
        return self.metrics.exposition()

    async def _publish_forever(self) -> None:
        while True:
            await asyncio.sleep(METRICS_PUBLISH_SECONDS)
            self.metrics.publish(self.metrics_readings())

    async def readiness(self) -> dict[str, bool]:
        """Each check by name; the database and Redis answers are reused for a second."""
        checks = {
            "registry_snapshot": self.registry.loaded,
            "audit_writer": self.audit.healthy,
            "audit_queue": self.audit.queue_depth < AUDIT_QUEUE_NEAR_FULL,
            "audit_log_intact": self.audit_cut is None,  # no checkpoint refused over a cut
            "database": await self._cached("database", self._database_reachable),
        }
        if self.state.redis is not None:
            checks["shared_state"] = await self._cached("shared_state", self._state_reachable)
        return checks

    async def _cached(self, name: str, check: Callable[[], Awaitable[bool]]) -> bool:
        async with self._checking:
            at, ok = self._checked.get(name, (float("-inf"), False))
            if time.monotonic() - at >= READINESS_CACHE_SECONDS:
                ok = await check()
                self._checked[name] = (time.monotonic(), ok)
            return ok

    async def _database_reachable(self) -> bool:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("readiness: database check failed: %s", exc.__class__.__name__)
            return False
        return True

    async def _state_reachable(self) -> bool:
        return await self.state.ping(CHECK_TIMEOUT_SECONDS)


def refuse_unsealed_payloads(services: Iterable[Service], keys: PayloadKeys | None) -> None:
    """`ConfigError` if a service keeps payloads and there is no payload key."""
    if keys is not None:
        return
    keeping = sorted(s.id for s in services if s.keep_payloads)
    if keeping:
        raise ConfigError(
            f"services {', '.join(keeping)} keep payloads, but PANJEREH_AUDIT_PAYLOAD_KEY "
            "and PANJEREH_AUDIT_PAYLOAD_KEY_ID are not set: payloads are never stored "
            "unencrypted (docs/audit-log.md, Privacy)"
        )


def _system_name(systems: Mapping[int, System], key: Hashable) -> str:
    system = systems.get(key) if isinstance(key, int) else None
    return system.ident if system is not None else str(key)
