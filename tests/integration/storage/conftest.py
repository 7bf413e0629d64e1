"""The audit store over the test's migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.storage.audit_repo import SqlAuditStore


@pytest.fixture
async def store(engine: AsyncEngine) -> AsyncIterator[SqlAuditStore]:
    audit = SqlAuditStore(engine)
    try:
        yield audit
    finally:
        await audit.close()
