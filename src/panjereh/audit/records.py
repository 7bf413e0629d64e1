"""What the exchange records about one inquiry (never the payload itself, only its hash)."""

from __future__ import annotations

from dataclasses import dataclass, fields
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
    # Format panjereh.audit/2 (docs/audit-log.md, "Record format"): 1 for the records written
    # before it (and every document that does not say), 2 for what the exchange writes now.
    format: int = 1
    context: str | None = None  # what the inquiry was made for, e.g. an application id
    request_bytes: int | None = None  # the inquiry's body length
    response_bytes: int | None = None  # the answer's body length
    operation: str | None = None  # method and path template, e.g. "POST /exchange/v1/{service}"
    projection_id: str | None = None  # the grant's projection as it was at the inquiry


FIELDS = tuple(f.name for f in fields(AuditRecord))
FIELDS_V1 = FIELDS[: FIELDS.index("format")]  # what a format-1 record's documents carry


def field_names(record: AuditRecord) -> tuple[str, ...]:
    """The fields a document (a stream message, a proof, an archive line) carries for
    ``record``: a format-1 record's exactly as before format 2 existed (its ``format`` and
    the five new values left out), so its documents stay byte for byte what they were."""
    return FIELDS_V1 if record.format == 1 else FIELDS
