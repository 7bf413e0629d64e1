"""Audit events of the control plane, and the interface they are emitted through.

Declared here, in the domain, so the registry can emit events and the audit log can store
them without either importing the other (X-Road's audit event: event, actor, reason, data,
outcome).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class EventOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    REFUSED = "refused"  # not allowed (authorization) or not valid (validation)
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: datetime
    actor: str  # "user:alice", "cli:bob", "demo"
    action: str  # "agency.create", "grant.approve", "api-key.rotate", ...
    object_type: str  # "agency", "system", "service", "grant", ...
    object_id: str  # the object's natural key, e.g. "civil-registry/population-registry"
    reason: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    outcome: EventOutcome = EventOutcome.SUCCEEDED


class AuditSink(Protocol):
    async def emit(self, event: AuditEvent) -> None:
        """Record ``event`` (in the same transaction as the change it describes)."""
