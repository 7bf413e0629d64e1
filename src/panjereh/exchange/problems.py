"""The one error envelope of the exchange: RFC 9457 problem details with stable type codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from panjereh.domain.echo import bounded, clip
from panjereh.domain.errors import PanjerehError

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ErrorSource(StrEnum):
    EXCHANGE = "exchange"
    PROVIDER = "provider"


@dataclass(frozen=True, slots=True)
class ProblemType:
    code: str
    status: int
    title: str
    source: ErrorSource = ErrorSource.EXCHANGE

    @property
    def uri(self) -> str:
        """Relative to the exchange's base URL; docs/exchange-protocol.md describes each one."""
        return f"/problems/{self.code}"


UNKNOWN_SERVICE = ProblemType("unknown-service", 404, "Unknown service")
UNAUTHENTICATED = ProblemType("unauthenticated", 401, "Authentication required")
ACCESS_DENIED = ProblemType("access-denied", 403, "Access denied")
INVALID_REQUEST = ProblemType("invalid-request", 400, "Invalid request")
PAYLOAD_TOO_LARGE = ProblemType("payload-too-large", 413, "Payload too large")
METHOD_NOT_ALLOWED = ProblemType("method-not-allowed", 405, "Method not allowed")
UNSUPPORTED_MEDIA_TYPE = ProblemType("unsupported-media-type", 415, "Unsupported media type")
DUPLICATE_REQUEST = ProblemType("duplicate-request", 409, "Duplicate request")
RATE_LIMITED = ProblemType("rate-limited", 429, "Rate limited")
QUOTA_EXHAUSTED = ProblemType("quota-exhausted", 429, "Daily quota exhausted")
OVERLOADED = ProblemType("overloaded", 503, "Exchange overloaded")
CIRCUIT_OPEN = ProblemType("circuit-open", 503, "Provider circuit open")
PROVIDER_UNAVAILABLE = ProblemType(
    "provider-unavailable", 502, "Provider unavailable", ErrorSource.PROVIDER
)
PROVIDER_TIMEOUT = ProblemType("provider-timeout", 504, "Provider timed out", ErrorSource.PROVIDER)
PROVIDER_ERROR = ProblemType("provider-error", 502, "Provider error", ErrorSource.PROVIDER)
# The provider's endpoint leads to an address the exchange does not call (docs/registry.md).
PROVIDER_ADDRESS_REFUSED = ProblemType(
    "provider-address-refused", 502, "Provider address refused", ErrorSource.PROVIDER
)
# A bug: nothing expected stopped the inquiry; the answer carries a reference that is in the log.
SERVER_ERROR = ProblemType("server-error", 500, "Internal server error")

ALL_PROBLEMS: tuple[ProblemType, ...] = (
    UNKNOWN_SERVICE,
    UNAUTHENTICATED,
    ACCESS_DENIED,
    INVALID_REQUEST,
    PAYLOAD_TOO_LARGE,
    METHOD_NOT_ALLOWED,
    UNSUPPORTED_MEDIA_TYPE,
    DUPLICATE_REQUEST,
    RATE_LIMITED,
    QUOTA_EXHAUSTED,
    OVERLOADED,
    CIRCUIT_OPEN,
    PROVIDER_UNAVAILABLE,
    PROVIDER_TIMEOUT,
    PROVIDER_ERROR,
    PROVIDER_ADDRESS_REFUSED,
    SERVER_ERROR,
)


class Problem(PanjerehError):
    """Raised inside the exchange; turned into exactly one problem+json answer.

    A ``detail`` that repeats a value from the request quotes it with
    :func:`panjereh.domain.echo.quoted`; :meth:`body` bounds the whole document besides
    (every string, the ``instance`` path, every list), so no request makes a large error.
    """

    def __init__(
        self, kind: ProblemType, detail: str, *, retry_after: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after  # seconds, sent as Retry-After
        self.extra = extra

    def body(self, *, instance: str | None = None, exchange_id: str | None = None) -> bytes:
        document: dict[str, Any] = {
            "type": self.kind.uri,
            "title": self.kind.title,
            "status": self.kind.status,
            "detail": self.detail,
            "code": self.kind.code,
        }
        if instance is not None:
            document["instance"] = clip(instance)
        if exchange_id is not None:
            document["exchange_id"] = exchange_id
        document.update(self.extra)
        return orjson.dumps(bounded(document))
