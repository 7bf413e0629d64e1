"""What the exchange records about one inquiry (never the payload itself, only its hash)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"  # the provider answered (2xx)
    NOT_FOUND = "not_found"  # the provider answered that the subject is unknown (4xx)
    DENIED = "denied"  # the exchange refused the caller (401/403)
    INVALID = "invalid"  # the request was malformed
    FAILED = "failed"  # the provider failed, timed out or could not be reached


@dataclass(frozen=True, slots=True)
class AuditRecord:
    exchange_id: str
    created_at: datetime
    consumer: str | None
    service_id: str | None
    purpose: str | None
    subject_hash: str | None
    outcome: Outcome
    status_code: int
    error_type: str | None
    duration_ms: float
    request_hash: str | None
    response_hash: str | None
    request_id: str | None = None  # the caller's X-Request-Id
    auth_method: str | None = None  # api-key, signature or proxy
    replay_of: str | None = None  # exchange id of the inquiry whose answer was replayed
    cached: bool = False  # answered from the response cache, no provider call
    provider_ms: float | None = None  # time spent waiting for the provider
