"""GET /readyz: ready only while everything an inquiry needs works, and it says what does not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from panjereh.config import Settings
from panjereh.storage.checkpoints_repo import CheckpointStore
from panjereh.storage.engine import create_engine
from panjereh.web.app import create_app
from tests.integration.conftest import Live
from tests.integration.storage.tampering import tamper
from tests.integration.storage.test_audit_verify import _record
from tests.support import free_port, serving


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    app = create_app(settings.model_copy(update={"port": port}))
    async with serving(app, port) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield client


async def test_it_is_ready_with_every_check_passing(live: Live) -> None:
    response = await live.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {
            "registry_snapshot": True,
            "audit_writer": True,
            "audit_queue": True,
            "audit_log_intact": True,
            "database": True,
        },
    }


async def test_it_is_not_ready_once_the_audit_writer_has_stopped(live: Live) -> None:
    await live.app.runtime.audit.stop()
    response = await live.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not-ready"
    assert body["failed"] == ["audit_writer"]
    assert body["checks"]["database"] is True


async def test_it_is_not_ready_while_the_audit_queue_is_nearly_full(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("panjereh.web.runtime.AUDIT_QUEUE_NEAR_FULL", 0)
    response = await live.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["audit_queue"]


async def test_it_asks_the_database_at_most_once_a_second(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = live.app.runtime
    asked = []
    real = runtime._database_reachable

    async def counted() -> bool:
        asked.append(1)
        return await real()

    monkeypatch.setattr(runtime, "_database_reachable", counted)
    runtime._checked.clear()
    for _ in range(5):
        assert (await live.client.get("/readyz")).status_code == 200
    assert len(asked) == 1


async def test_it_is_not_ready_when_the_database_cannot_be_reached(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = live.app.runtime
    nowhere = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none")
    monkeypatch.setattr(runtime, "engine", nowhere)
    runtime._checked.clear()
    try:
        response = await live.client.get("/readyz")
    finally:
        await nowhere.dispose()
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]


async def test_it_is_not_ready_when_redis_cannot_be_reached(dev_settings: Settings) -> None:
    closed = free_port()
    settings = dev_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed}/0"})
    async with started(settings) as client:
        response = await client.get("/readyz")
        assert (await client.get("/healthz")).status_code == 200  # alive, just not ready
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["shared_state"]
    assert body["checks"]["database"] is True


async def test_it_is_ready_with_redis_reachable(dev_settings: Settings, redis_url: str) -> None:
    async with started(dev_settings.model_copy(update={"redis_url": redis_url})) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["shared_state"] is True


async def test_it_refuses_a_checkpoint_over_a_cut_tail_and_is_not_ready_until_looked_at(
    live: Live,
) -> None:
    runtime = live.app.runtime
    store = runtime.audit_store
    await store.append([_record(n) for n in range(1, 4)])  # the writer signs #3 with them
    await store.append([_record(n) for n in range(4, 7)])  # within the interval: no head
    committed = store.committed_head()
    assert committed is not None
    shard = committed[0]
    await tamper(runtime.engine, "DELETE FROM audit_records WHERE shard = :s AND seq > 4", s=shard)
    assert await runtime.checkpoint() is None  # refused, not signed over the shorter log
    response = await live.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["audit_log_intact"]
    assert f"shard {shard} ends at #4, behind #6" in body["audit_cut"]
    assert "panjereh_audit_cut_alarms_total 1.0" in runtime.metrics_text().decode()
    assert await CheckpointStore(runtime.engine).all() == []
