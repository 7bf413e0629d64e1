"""The audit log's published checkpoints (docs/audit-log.md): public, so that agencies,
auditors and anyone else can keep their own copies and verify the log against them later."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from panjereh.storage.checkpoints_repo import CheckpointStore
from panjereh.web.api.context import ApiContext

PUBLIC = {"x-access": "public"}


def router(ctx: ApiContext) -> APIRouter:
    router = APIRouter()

    @router.get("/audit/checkpoints", openapi_extra=PUBLIC)
    async def checkpoints(
        after: int = Query(0, ge=0, description="only checkpoints numbered above this"),
        limit: int = Query(100, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        """Signed checkpoints, oldest first: each shard's head, the Merkle root over the
        records since the previous checkpoint, its hash, key id and Ed25519 signature."""
        found = await CheckpointStore(ctx.runtime.engine).since(after, limit)
        return [checkpoint.as_json() for checkpoint in found]

    return router
