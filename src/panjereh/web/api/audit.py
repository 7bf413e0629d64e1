"""The audit log's published checkpoints (docs/audit-log.md): public, so that agencies,
auditors and anyone else can keep their own copies and verify the log against them later."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from panjereh.audit.records import AuditRecord
from panjereh.registry.access import Conflict, NotFound, Principal
from panjereh.storage.checkpoints_repo import CheckpointStore, NotYetCheckpointed, prove
from panjereh.web.api.context import ApiContext

PUBLIC = {"x-access": "public"}


def router(ctx: ApiContext) -> APIRouter:
    router = APIRouter()
    caller = ctx.caller()

    @router.get("/audit/checkpoints", openapi_extra=PUBLIC)
    async def checkpoints(
        after: int = Query(0, ge=0, description="only checkpoints numbered above this"),
        limit: int = Query(100, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        """Signed checkpoints, oldest first: each shard's head, the Merkle root over the
        records since the previous checkpoint, its hash, key id and Ed25519 signature."""
        found = await CheckpointStore(ctx.runtime.engine).since(after, limit)
        return [checkpoint.as_json() for checkpoint in found]

    @router.get(
        "/audit/records/{exchange_id}/proof",
        openapi_extra={"x-access": "consumer-or-provider-agency-operator-or-auditor"},
    )
    async def proof(exchange_id: str, who: Principal = caller) -> dict[str, Any]:
        """The record, its inclusion proof and the signed checkpoint that covers it; check it
        offline with `panjereh audit check-proof` (docs/audit-log.md)."""
        try:
            found = await prove(ctx.runtime.engine, exchange_id)
        except NotYetCheckpointed:
            raise Conflict(
                "No checkpoint covers this record yet; they are made every "
                f"{ctx.runtime.settings.audit_checkpoint_seconds:g} s."
            ) from None
        if found is None or not _may_see(ctx, who, found[0]):
            raise NotFound("no such audit record")
        return found[1]

    return router


def _may_see(ctx: ApiContext, who: Principal, record: AuditRecord) -> bool:
    """Operators and auditors see every record; an agency the records of its own systems'
    inquiries and of inquiries to its services."""
    if who.reads_everything:
        return True
    if who.agency is None:
        return False
    consumer_agency = (record.consumer or "").split("/", 1)[0]
    service = ctx.runtime.registry.current.services.get(record.service_id or "")
    provider_agency = service.agency.code if service is not None else None
    return who.agency in (consumer_agency, provider_agency)
