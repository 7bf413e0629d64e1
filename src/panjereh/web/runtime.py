"""Everything a server process builds at start-up and tears down at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.writer import AuditWriter
from panjereh.config import Settings
from panjereh.domain.clock import Clock
from panjereh.exchange.asgi import InquiryEndpoint
from panjereh.exchange.callers import Authenticator
from panjereh.exchange.inquiry import InquiryHandler
from panjereh.exchange.keys import ExchangeKeys, keys_from_settings, load_keys
from panjereh.exchange.provider import ProviderGateway
from panjereh.exchange.resilience import AdmissionControl
from panjereh.exchange.transport import ProviderTransport
from panjereh.registry.snapshot import SnapshotHolder
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.engine import create_engine
from panjereh.storage.migrate import ensure_current
from panjereh.storage.registry_repo import load_snapshot, record_key_usage, registry_version
from panjereh.storage.state import ExchangeState, build_state

log = logging.getLogger(__name__)

REFRESH_SECONDS = 0.25  # registry changes reach every worker well within a second


def exchange_keys(settings: Settings, clock: Clock) -> ExchangeKeys:
    """The exchange's signing keys: from settings if given, else the keys folder (the first
    key is made there on first use)."""
    if settings.exchange_signing_key is not None and settings.exchange_signing_key_id:
        pem = settings.exchange_signing_key.get_secret_value().encode("utf-8")
        return keys_from_settings(
            pem, settings.exchange_signing_key_id, settings.effective_keys_dir
        )
    return load_keys(settings.effective_keys_dir, clock.now())


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


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    pepper: bytes
    engine: AsyncEngine
    registry: SnapshotHolder
    audit_store: SqlAuditStore
    audit: AuditWriter
    transport: ProviderTransport
    inquiry: InquiryEndpoint
    handler: InquiryHandler
    keys_holder: _KeysHolder
    state: ExchangeState
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, repr=False)

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock, pepper: bytes) -> Runtime:
        engine = create_engine(settings.effective_database_url)
        keys = exchange_keys(settings, clock)
        registry = SnapshotHolder()
        store = SqlAuditStore(engine)
        audit = AuditWriter(store, batch_size=settings.audit_batch_size)
        transport = ProviderTransport()
        state = build_state(settings.redis_url, clock=clock)
        holder = _KeysHolder(keys)
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
            admission=AdmissionControl(settings.max_in_flight),
            keys=holder.get,
            pepper=pepper,
            clock=clock,
        )
        return cls(
            settings=settings,
            clock=clock,
            pepper=pepper,
            engine=engine,
            registry=registry,
            audit_store=store,
            audit=audit,
            transport=transport,
            inquiry=InquiryEndpoint(handler, max_body=settings.max_request_bytes),
            handler=handler,
            keys_holder=holder,
            state=state,
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
        await self.transport.start()
        self.audit.start()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._refresh_forever(), name="registry-refresh"),
            loop.create_task(self._flush_usage_forever(), name="usage-flush"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.flush_usage()
        await self.audit.stop()
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
            except (SQLAlchemyError, OSError) as exc:
                log.warning("registry refresh failed: %s", exc.__class__.__name__)
