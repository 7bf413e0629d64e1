"""One inquiry, from the caller's key to the provider's answer and its audit record.

Order matters and is part of the protocol: authenticate the caller, find the service, check
the grant, validate the request, forward, record.  Nothing reaches a provider before the
exchange has decided the caller may ask.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from jsonpointer import JsonPointer, JsonPointerException

from panjereh.audit.records import AuditRecord, Outcome
from panjereh.audit.writer import AuditUnavailable, AuditWriter
from panjereh.domain.clock import Clock
from panjereh.domain.errors import InvalidValue
from panjereh.domain.identifiers import LegalId, NationalCode
from panjereh.exchange.problems import (
    ACCESS_DENIED,
    INVALID_REQUEST,
    OVERLOADED,
    PAYLOAD_TOO_LARGE,
    PROVIDER_ERROR,
    UNAUTHENTICATED,
    UNKNOWN_SERVICE,
    ErrorSource,
    Problem,
)
from panjereh.exchange.transport import ProviderReply, ProviderTransport
from panjereh.registry.credentials import hash_api_key
from panjereh.registry.model import Service, SubjectKind, System
from panjereh.registry.snapshot import SnapshotHolder

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class InquiryRequest:
    service_id: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    too_large: bool = False  # the body was cut off at the configured limit


@dataclass(slots=True)
class InquiryReply:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Context:
    """What is known about an inquiry so far; becomes its audit record."""

    exchange_id: str
    started: float
    consumer: System | None = None
    service: Service | None = None
    purpose: str | None = None
    subject_hash: str | None = None
    request_hash: str | None = None


class InquiryHandler:
    def __init__(
        self,
        *,
        registry: SnapshotHolder,
        transport: ProviderTransport,
        audit: AuditWriter,
        pepper: bytes,
        clock: Clock,
        default_timeout: float,
    ) -> None:
        self._registry = registry
        self._transport = transport
        self._audit = audit
        self._pepper = pepper
        self._subject_key = hmac.new(pepper, b"audit-subject-key", hashlib.sha256).digest()
        self._clock = clock
        self._default_timeout = default_timeout
        self._pointers: dict[str, JsonPointer] = {}
        # key id -> last use; flushed to the database in the background, never per inquiry
        self.key_usage: dict[int, datetime] = {}

    async def handle(self, request: InquiryRequest) -> InquiryReply:
        ctx = _Context(exchange_id=str(uuid.uuid4()), started=time.perf_counter())
        try:
            reply = await self._process(request, ctx)
        except Problem as problem:
            reply = InquiryReply(
                status=problem.kind.status,
                body=problem.body(instance=request.path, exchange_id=ctx.exchange_id),
                content_type="application/problem+json",
                headers={"x-error-source": problem.kind.source.value},
            )
            outcome = _outcome_of(problem)
            await self._record(ctx, reply, outcome, problem.kind.code)
        reply.headers["x-exchange-id"] = ctx.exchange_id
        return reply

    async def _process(self, request: InquiryRequest, ctx: _Context) -> InquiryReply:
        snapshot = self._registry.current
        if request.too_large:
            raise Problem(
                PAYLOAD_TOO_LARGE, "The request body is larger than the exchange accepts."
            )
        ctx.consumer = self.authenticate(request.headers)
        service = snapshot.services.get(request.service_id)
        if service is None or not service.is_callable:
            raise Problem(UNKNOWN_SERVICE, f"There is no service {request.service_id!r}.")
        ctx.service = service
        ctx.purpose = request.headers.get("x-purpose", "")[:120] or None
        self._authorize(ctx.consumer, service, ctx.purpose)
        document = _parse_json_object(request.body)
        self._validate(service, document)
        ctx.request_hash = hashlib.sha256(request.body).hexdigest()
        ctx.subject_hash = self._subject_hash(service, document)
        provider = await self._transport.post(
            service.endpoint_url,
            request.body,
            {
                "content-type": JSON,
                "x-exchange-id": ctx.exchange_id,
                "x-consumer-system": ctx.consumer.ident,
                "x-purpose": ctx.purpose or "",
            },
            service.timeout_ms / 1000 if service.timeout_ms else self._default_timeout,
        )
        reply = _reply_from_provider(provider)
        outcome = Outcome.OK if reply.status < 400 else Outcome.NOT_FOUND
        if not await self._record(ctx, reply, outcome, None):
            # No record, no answer: the caller sees a retryable failure, never unaudited data.
            raise Problem(OVERLOADED, "The exchange cannot record inquiries right now; retry.")
        return reply

    def authenticate(self, headers: Mapping[str, str]) -> System:
        """The calling system, from its API key; a `Problem` if there is none or it may not call."""
        scheme, _, key = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "apikey" or not key.strip():
            raise Problem(
                UNAUTHENTICATED, "Send your system's key as 'Authorization: ApiKey <key>'."
            )
        snapshot = self._registry.current
        record = snapshot.keys_by_hash.get(hash_api_key(self._pepper, key.strip()))
        now = self._clock.now()
        if record is None or not record.usable_at(now):
            raise Problem(UNAUTHENTICATED, "The API key is not valid.")
        self.key_usage[record.id] = now
        system = snapshot.systems.get(record.system_id)
        if system is None or not system.is_active:
            raise Problem(ACCESS_DENIED, "Your system or agency is suspended.")
        return system

    def _authorize(self, consumer: System, service: Service, purpose: str | None) -> None:
        """A grant in force today, and the declared purpose among the grant's purposes."""
        grant = self._registry.current.grant(consumer.id, service.id)
        if grant is None or not grant.in_force_on(self._clock.now().date()):
            raise Problem(ACCESS_DENIED, "Your system holds no grant on this service.")
        if purpose is None:
            raise Problem(
                ACCESS_DENIED,
                "Declare the purpose of the inquiry in X-Purpose "
                f"(granted: {', '.join(sorted(grant.purposes))}).",
            )
        if purpose not in grant.purposes:
            raise Problem(
                ACCESS_DENIED, f"The purpose {purpose!r} is not granted for this service."
            )

    def _validate(self, service: Service, document: dict[str, object]) -> None:
        """The service's request schema, before anything reaches the provider."""
        validator = self._registry.request_validators.get(service.id)
        if validator is None or validator.is_valid(document):
            return
        error = next(iter(validator.iter_errors(document)))
        where = "/" + "/".join(str(p) for p in error.instance_path)
        raise Problem(
            INVALID_REQUEST,
            f"The request does not match the service's schema at {where}: {error.message}",
        )

    def _subject_hash(self, service: Service, document: dict[str, object]) -> str | None:
        if service.subject_pointer is None or service.subject_kind is SubjectKind.NONE:
            return None
        pointer = self._pointers.get(service.subject_pointer)
        if pointer is None:
            pointer = self._pointers[service.subject_pointer] = JsonPointer(service.subject_pointer)
        try:
            raw = pointer.resolve(document)
        except JsonPointerException:
            raise Problem(
                INVALID_REQUEST, f"The request must give the subject at {service.subject_pointer}."
            ) from None
        try:
            parser = NationalCode if service.subject_kind is SubjectKind.NATIONAL_CODE else LegalId
            subject = parser.parse(raw).value
        except InvalidValue as exc:
            raise Problem(INVALID_REQUEST, exc.message_en, field=service.subject_pointer) from None
        return hmac.new(self._subject_key, subject.encode("ascii"), hashlib.sha256).hexdigest()

    async def _record(
        self, ctx: _Context, reply: InquiryReply, outcome: Outcome, error: str | None
    ) -> bool:
        """Append the inquiry's record and wait for its commit; False if it could not be."""
        record = AuditRecord(
            exchange_id=ctx.exchange_id,
            created_at=self._clock.now(),
            consumer=ctx.consumer.ident if ctx.consumer else None,
            service_id=ctx.service.id if ctx.service else None,
            purpose=ctx.purpose,
            subject_hash=ctx.subject_hash,
            outcome=outcome,
            status_code=reply.status,
            error_type=error,
            duration_ms=round((time.perf_counter() - ctx.started) * 1000, 3),
            request_hash=ctx.request_hash,
            response_hash=hashlib.sha256(reply.body).hexdigest(),
        )
        try:
            await self._audit.record(record)
        except AuditUnavailable:
            return False
        return True


def _parse_json_object(body: bytes) -> dict[str, object]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Problem(INVALID_REQUEST, "The request body must be JSON.") from None
    if not isinstance(document, dict):
        raise Problem(INVALID_REQUEST, "The request body must be a JSON object.")
    return document


def _reply_from_provider(provider: ProviderReply) -> InquiryReply:
    """Pass the provider's JSON answer on; never pass on a provider's internal error text."""
    if provider.status >= 500:
        raise Problem(PROVIDER_ERROR, f"The provider failed (HTTP {provider.status}).")
    media = provider.content_type.split(";", 1)[0].strip().lower()
    if media not in (JSON, "application/problem+json"):
        raise Problem(PROVIDER_ERROR, "The provider's answer was not JSON.")
    try:
        orjson.loads(provider.body)
    except orjson.JSONDecodeError:
        raise Problem(PROVIDER_ERROR, "The provider's answer was not valid JSON.") from None
    headers = {} if provider.status < 400 else {"x-error-source": ErrorSource.PROVIDER.value}
    return InquiryReply(provider.status, provider.body, media, headers)


def _outcome_of(problem: Problem) -> Outcome:
    if problem.kind.status in (401, 403):
        return Outcome.DENIED
    if problem.kind.source is ErrorSource.PROVIDER or problem.kind.status >= 500:
        return Outcome.FAILED
    return Outcome.INVALID
