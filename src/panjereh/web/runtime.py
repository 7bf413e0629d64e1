"""Everything a server process builds at start-up and tears down at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.writer import AuditWriter
from panjereh.config import Settings
from panjereh.domain.clock import Clock
from panjereh.exchange.asgi import InquiryEndpoint
from panjereh.exchange.inquiry import InquiryHandler
from panjereh.exchange.transport import ProviderTransport
from panjereh.registry.snapshot import SnapshotHolder
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.engine import create_engine
from panjereh.storage.migrate import ensure_current
from panjereh.storage.registry_repo import load_snapshot, registry_version

log = logging.getLogger(__name__)

REFRESH_SECONDS = 0.5  # registry changes reach the data plane well within a second


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
    _refresher: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock, pepper: bytes) -> Runtime:
        engine = create_engine(settings.effective_database_url)
        registry = SnapshotHolder()
        store = SqlAuditStore(engine)
        audit = AuditWriter(store, batch_size=settings.audit_batch_size)
        transport = ProviderTransport()
        handler = InquiryHandler(
            registry=registry,
            transport=transport,
            audit=audit,
            pepper=pepper,
            clock=clock,
            default_timeout=settings.provider_timeout,
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
        )

    async def start(self) -> None:
        await ensure_current(self.engine)
        self.registry.replace(await load_snapshot(self.engine))
        await self.transport.start()
        self.audit.start()
        self._refresher = asyncio.get_running_loop().create_task(
            self._refresh_forever(), name="registry-refresh"
        )

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        await self.audit.stop()
        await self.transport.close()
        await self.engine.dispose()

    async def _refresh_forever(self) -> None:
        """Poll the registry's version row; rebuild the snapshot when it moved."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                version = await registry_version(self.engine)
                if version != self.registry.current.version:
                    self.registry.replace(await load_snapshot(self.engine))
                    log.info("registry snapshot refreshed to version %d", version)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("registry refresh failed: %s", exc.__class__.__name__)
