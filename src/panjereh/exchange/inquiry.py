"""One inquiry, from the caller's credentials to the signed answer and its audit record.

Order matters and is part of the protocol (docs/exchange-protocol.md): admit, authenticate,
find the service, check the grant and purpose, validate the request, replay a retried
X-Request-Id, apply the grant's rate limit and quota, answer from the cache or forward to the
provider, project the answer to the grant's fields, sign it, record it durably, answer.
Nothing reaches a provider before the exchange has decided the caller may ask, and nothing is
answered before its audit record is committed.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import orjson
from jsonpointer import JsonPointer, JsonPointerException

from panjereh.audit.chain import CURRENT as RECORD_FORMAT
from panjereh.audit.payloads import KeptPayloads
from panjereh.audit.records import AuditRecord, Outcome
from panjereh.audit.subjects import SubjectKeys
from panjereh.audit.writer import AuditUnavailable, AuditWriter
from panjereh.domain.clock import Clock
from panjereh.domain.echo import clip, quoted
from panjereh.domain.errors import InvalidValue
from panjereh.domain.identifiers import LegalId, NationalCode
from panjereh.domain.ids import IdMaker
from panjereh.exchange.cache import ResponseCache, StoredReply, cache_key
from panjereh.exchange.callers import Authenticator, Caller, Presented
from panjereh.exchange.idempotency import (
    Claim,
    IdempotencyRefusal,
    IdempotencyStore,
    IdempotencyUnavailable,
    parse_request_id,
    request_digest,
)
from panjereh.exchange.json_body import JsonBodyError, parse_object
from panjereh.exchange.keys import ExchangeKeys
from panjereh.exchange.limits import Limiter, LimiterUnavailable, Refusal
from panjereh.exchange.metrics import InquiryObserver, NoMetrics
from panjereh.exchange.problems import (
    ACCESS_DENIED,
    DUPLICATE_REQUEST,
    INVALID_REQUEST,
    OVERLOADED,
    PAYLOAD_TOO_LARGE,
    PROVIDER_ERROR,
    QUOTA_EXHAUSTED,
    RATE_LIMITED,
    UNAUTHENTICATED,
    UNKNOWN_SERVICE,
    UNSUPPORTED_MEDIA_TYPE,
    ErrorSource,
    Problem,
)
from panjereh.exchange.projection import project, projection_id
from panjereh.exchange.provider import Forwarded, ProviderGateway
from panjereh.exchange.resilience import AdmissionControl
from panjereh.exchange.signatures import (
    CONSUMER_REQUEST,
    Reason,
    ResponseSigner,
    content_digest,
    sha256_digest_field,
)
from panjereh.exchange.transport import ProviderReply
from panjereh.registry.model import Grant, Service, SubjectKind
from panjereh.registry.snapshot import SnapshotHolder

JSON = "application/json"
PROBLEM = "application/problem+json"
PROVIDER_DETAIL_MAX = 300
# Answers the exchange cannot sign: it never read the request body whole.
UNSIGNED_STATUSES = frozenset({405, 413})
# The operation an inquiry's audit record names (format panjereh.audit/2): method and path
# template, the service id left out (the record has it).
INQUIRY_PATH = "/exchange/v1/services/{service_id}"
INQUIRY_OPERATION = f"POST {INQUIRY_PATH}"
# A 401 names both ways in (RFC 9110 §11.6.1): the ApiKey scheme, and a request signature
# with what it must cover (Accept-Signature, RFC 9421 §5.1).
CHALLENGE: Mapping[str, str] = {
    "www-authenticate": 'ApiKey realm="panjereh-exchange"',
    "accept-signature": (
        f'sig1=({" ".join(c.identifier for c in CONSUMER_REQUEST.components)});alg="ed25519"'
    ),
}


@dataclass(frozen=True, slots=True)
class InquiryRequest:
    service_id: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    too_large: bool = False  # the body was cut off at the configured limit
    method: str = "POST"
    client_ip: str | None = None


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
    request_content_digest: str = ""
    caller: Caller | None = None
    service: Service | None = None
    grant: Grant | None = None
    purpose: str | None = None
    subject: str | None = None
    subject_hash: str | None = None
    document: dict[str, object] | None = None  # the request body, once parsed
    request_hash: str | None = None
    request_id: str | None = None
    claim: Claim | None = None
    replay_of: str | None = None
    cached: bool = False
    provider_ms: float | None = None
    refusal_reason: str | None = None  # e.g. why a signature was refused, for metrics


class InquiryHandler:
    def __init__(
        self,
        *,
        registry: SnapshotHolder,
        authenticator: Authenticator,
        gateway: ProviderGateway,
        audit: AuditWriter,
        limiter: Limiter,
        idempotency: IdempotencyStore,
        cache: ResponseCache,
        admission: AdmissionControl,
        keys: Callable[[], ExchangeKeys],
        subjects: SubjectKeys,
        clock: Clock,
        metrics: InquiryObserver | None = None,
    ) -> None:
        self._registry = registry
        self.authenticator = authenticator
        self.gateway = gateway
        self._audit = audit
        self._limiter = limiter
        self._idempotency = idempotency
        self._cache = cache
        self.admission = admission
        self._keys = keys
        self._signer: tuple[str, ResponseSigner] | None = None
        self._subjects = subjects
        self._clock = clock
        self._pointers: dict[str, JsonPointer] = {}
        self._new_id = IdMaker()
        self._metrics = metrics if metrics is not None else NoMetrics()

    async def handle(self, request: InquiryRequest) -> InquiryReply:
        ctx = _Context(exchange_id=self._new_id(), started=time.perf_counter())
        if not self.admission.try_enter():
            problem = Problem(
                OVERLOADED,
                "The exchange is overloaded; retry shortly.",
                retry_after=str(max(1, round(self.admission.retry_after))),
            )
            return await self._refuse(request, ctx, problem)
        try:
            return await self._process(request, ctx)
        except Problem as problem:
            return await self._refuse(request, ctx, problem)
        finally:
            self.admission.leave()

    async def _refuse(
        self, request: InquiryRequest, ctx: _Context, problem: Problem
    ) -> InquiryReply:
        if ctx.claim is not None:
            await self._release(ctx.claim)
        headers = {"x-error-source": problem.kind.source.value}
        if problem.retry_after is not None:
            headers["retry-after"] = problem.retry_after
        if problem.kind is UNAUTHENTICATED:
            headers.update(CHALLENGE)
        reply = InquiryReply(
            status=problem.kind.status,
            body=problem.body(instance=request.path, exchange_id=ctx.exchange_id),
            content_type=PROBLEM,
            headers=headers,
        )
        self._finish(reply, ctx)
        ctx.refusal_reason = problem.extra.get("reason")
        if ctx.subject_hash is None:
            self._subject_of_refused(request, ctx)
        # A refusal is answered even if its record could not be written (the writer logs it).
        await self._record(ctx, reply, _outcome_of(problem), problem.kind.code, request)
        return reply

    async def _process(self, request: InquiryRequest, ctx: _Context) -> InquiryReply:
        if request.too_large:
            raise Problem(
                PAYLOAD_TOO_LARGE, "The request body is larger than the exchange accepts."
            )
        body_sha256 = hashlib.sha256(request.body).digest()  # both Content-Digest fields
        ctx.request_content_digest = request.headers.get("content-digest") or sha256_digest_field(
            body_sha256
        )
        ctx.caller = caller = self.authenticator.authenticate(
            Presented(
                method=request.method,
                authority=request.headers.get("host", ""),
                path=request.path,
                headers=request.headers,
                body=request.body,
                client_ip=request.client_ip,
            )
        )
        service = self._registry.current.services.get(request.service_id)
        if service is None or not service.is_callable:
            raise Problem(UNKNOWN_SERVICE, f"There is no service {quoted(request.service_id)}.")
        ctx.service = service
        ctx.purpose = request.headers.get("x-purpose", "")[:120] or None
        ctx.grant = grant = self._authorize(caller, service, ctx.purpose)
        _refuse_other_media_types(request.headers.get("content-type"))
        ctx.document = document = _parse_json_object(request.body)
        self._validate(service, document)
        # Keyed, not the Content-Digest's SHA-256: a reader of the log must not be able to
        # brute-force the body (format 2; audit/subjects.py).
        ctx.request_hash = self._subjects.body_hash(request.body)
        self._read_subject(service, document, ctx)
        replay = await self._replay(request, ctx, caller, service)
        if replay is not None:
            return replay
        await self._admit(grant)
        reply = await self._answer(request, ctx, caller, service, grant, document, body_sha256)
        self._finish(reply, ctx)
        if not await self._record(ctx, reply, _outcome_of_status(reply.status), None, request):
            # No record, no answer: the caller sees a retryable failure, never unaudited data.
            raise Problem(OVERLOADED, "The exchange cannot record inquiries right now; retry.")
        if ctx.claim is not None:
            claim, ctx.claim = ctx.claim, None
            await self._complete(claim, reply)
        return reply

    # Steps ------------------------------------------------------------------------------

    def _authorize(self, caller: Caller, service: Service, purpose: str | None) -> Grant:
        """A grant in force today, and the declared purpose among the grant's purposes."""
        grant = self._registry.current.grant(caller.system.id, service.id)
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
                ACCESS_DENIED, f"The purpose {quoted(purpose)} is not granted for this service."
            )
        return grant

    def _validate(self, service: Service, document: dict[str, object]) -> None:
        """The service's request schema, before anything reaches the provider."""
        validator = self._registry.request_validators.get(service.id)
        if validator is None or validator.is_valid(document):
            return
        error = next(iter(validator.iter_errors(document)))
        where = clip("/" + "/".join(str(p) for p in error.instance_path))
        raise Problem(
            INVALID_REQUEST,
            f"The request does not match the service's schema at {where}: {clip(error.message)}",
        )

    def _subject_of_refused(self, request: InquiryRequest, ctx: _Context) -> None:
        """The subject of an inquiry refused before its subject was read (no grant, a purpose
        not granted, a body the schema refused, ...), so the citizen sees the attempt too:
        when an authenticated caller named a known service, the body is a JSON object and
        the subject at the service's pointer is valid.  Only in memory: the body (parsed
        once), the registry snapshot's service, the subject key."""
        service = ctx.service
        if ctx.caller is None or service is None or request.too_large:
            return
        document = ctx.document
        if document is None:
            try:
                document = _parse_json_object(request.body)
            except Problem:
                return
        try:
            self._read_subject(service, document, ctx)
        except Problem:
            return  # no subject, or not a valid one: the record names nobody

    def _read_subject(self, service: Service, document: dict[str, object], ctx: _Context) -> None:
        if service.subject_pointer is None or service.subject_kind is SubjectKind.NONE:
            return
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
        ctx.subject = subject
        ctx.subject_hash = self._subjects.hash(subject)

    async def _replay(
        self, request: InquiryRequest, ctx: _Context, caller: Caller, service: Service
    ) -> InquiryReply | None:
        """The stored answer of an earlier inquiry with this X-Request-Id, or None (then
        this inquiry holds the id until it is answered)."""
        raw = request.headers.get("x-request-id")
        if raw is None:
            return None
        ctx.request_id = parse_request_id(raw)
        if ctx.request_id is None:
            raise Problem(INVALID_REQUEST, "X-Request-Id must be a UUID.")
        digest = request_digest(service.id, ctx.purpose, request.body)
        try:
            found = await self._idempotency.begin(
                caller.system.ident, ctx.request_id, digest, signed_at=caller.created
            )
        except IdempotencyUnavailable:
            raise Problem(OVERLOADED, "The exchange cannot check request ids now; retry.") from None
        if isinstance(found, IdempotencyRefusal):
            raise _refused_request_id(found)
        if isinstance(found, Claim):
            ctx.claim = found
            return None
        assert isinstance(found, StoredReply)  # noqa: S101 - the protocol's third case
        headers = dict(found.headers)
        ctx.replay_of = headers.get("x-exchange-id")
        reply = InquiryReply(found.status, found.body, found.content_type, headers)
        if not await self._record(ctx, reply, _outcome_of_status(reply.status), None, request):
            raise Problem(OVERLOADED, "The exchange cannot record inquiries right now; retry.")
        reply.headers["x-replayed"] = "true"
        return reply

    async def _admit(self, grant: Grant) -> None:
        if grant.rate_limit_per_minute is None and grant.daily_quota is None:
            return
        try:
            admission = await self._limiter.admit(
                f"{grant.consumer_system_id}:{grant.service_id}",
                per_minute=grant.rate_limit_per_minute,
                daily_quota=grant.daily_quota,
            )
        except LimiterUnavailable:
            raise Problem(OVERLOADED, "The exchange cannot check limits now; retry.") from None
        if admission.refusal is Refusal.RATE_LIMITED:
            raise Problem(
                RATE_LIMITED,
                f"Your grant allows {grant.rate_limit_per_minute} inquiries a minute.",
                retry_after=admission.retry_after,
            )
        if admission.refusal is Refusal.QUOTA_EXHAUSTED:
            raise Problem(
                QUOTA_EXHAUSTED,
                f"Your grant's daily quota of {grant.daily_quota} inquiries is used up "
                "(it renews at midnight, Tehran time).",
                retry_after=admission.retry_after,
            )

    async def _answer(
        self,
        request: InquiryRequest,
        ctx: _Context,
        caller: Caller,
        service: Service,
        grant: Grant,
        document: dict[str, object],
        body_sha256: bytes,
    ) -> InquiryReply:
        key = None
        if service.cache_ttl_s > 0:
            key = cache_key(service.id, ctx.subject, document, grant.projection)
            hit = await self._cache.get(key)
            if hit is not None:
                ctx.cached = True
                return InquiryReply(hit.status, hit.body, hit.content_type, dict(hit.headers))
        headers = {
            "content-type": JSON,
            "content-digest": sha256_digest_field(body_sha256),
            "x-exchange-id": ctx.exchange_id,
            "x-consumer-system": caller.system.ident,
            "x-purpose": ctx.purpose or "",
        }
        forwarded = await self.gateway.forward(service, request.body, headers)
        ctx.provider_ms = forwarded.provider_ms
        reply = _reply_from_provider(forwarded, grant)
        if key is not None and reply.status < 500:
            stored = StoredReply.of(reply.status, reply.body, reply.content_type, reply.headers)
            await self._cache.put(key, stored, service.cache_ttl_s)
        return reply

    # Signing and recording --------------------------------------------------------------

    def _response_signer(self) -> ResponseSigner:
        keys = self._keys()
        if self._signer is None or self._signer[0] != keys.active_id:
            self._signer = (keys.active_id, ResponseSigner(keys.private_key, keys.active_id))
        return self._signer[1]

    def _finish(self, reply: InquiryReply, ctx: _Context) -> None:
        """Stamp the answer with its exchange id and the exchange's signature."""
        reply.headers["x-exchange-id"] = ctx.exchange_id
        if reply.status in UNSIGNED_STATUSES or not ctx.request_content_digest:
            return
        reply.headers["content-digest"] = content_digest(reply.body)
        reply.headers.update(
            self._response_signer().sign(
                status=reply.status,
                headers=reply.headers,
                request_headers={"content-digest": ctx.request_content_digest},
                created=self._clock.now().timestamp(),
            )
        )

    async def _record(
        self,
        ctx: _Context,
        reply: InquiryReply,
        outcome: Outcome,
        error: str | None,
        request: InquiryRequest,
    ) -> bool:
        """Append the inquiry's record and wait for its commit; False if it could not be.

        Only for a service that keeps payloads do the bodies go along (the store seals them);
        every other inquiry passes None."""
        grant = ctx.grant
        record = AuditRecord(
            exchange_id=ctx.exchange_id,
            created_at=self._clock.now(),
            consumer=ctx.caller.system.ident if ctx.caller else None,
            service_id=ctx.service.id if ctx.service else None,
            purpose=ctx.purpose,
            subject_hash=ctx.subject_hash,
            outcome=outcome,
            status_code=reply.status,
            error_type=error,
            duration_ms=round((time.perf_counter() - ctx.started) * 1000, 3),
            request_hash=ctx.request_hash,
            response_hash=self._subjects.body_hash(reply.body),  # keyed, as request_hash
            request_id=ctx.request_id,
            auth_method=ctx.caller.method.value if ctx.caller else None,
            replay_of=ctx.replay_of,
            cached=ctx.cached,
            provider_ms=ctx.provider_ms,
            format=RECORD_FORMAT,
            request_bytes=None if request.too_large else len(request.body),  # cut: unknown
            response_bytes=len(reply.body),
            operation=(
                INQUIRY_OPERATION
                if request.method == "POST"
                else f"{request.method} {INQUIRY_PATH}"
            ),
            projection_id=(
                projection_id(grant.projection)
                if grant is not None and grant.projection is not None
                else None
            ),
        )
        service = ctx.service
        kept = (
            KeptPayloads(ctx.exchange_id, request.body, reply.body)
            if service is not None and service.keep_payloads
            else None
        )
        recorded = False
        with contextlib.suppress(AuditUnavailable):
            await self._audit.record(record, kept)
            recorded = True
        self._metrics.observe(
            record,
            ctx.service,
            seconds=time.perf_counter() - ctx.started,
            recorded=recorded,
            reason=ctx.refusal_reason,
        )
        return recorded

    async def _complete(self, claim: Claim, reply: InquiryReply) -> None:
        stored = StoredReply.of(reply.status, reply.body, reply.content_type, reply.headers)
        try:
            await self._idempotency.complete(claim, stored)
        except IdempotencyUnavailable:
            return  # the answer stands; a retry will be answered afresh

    async def _release(self, claim: Claim) -> None:
        try:
            await self._idempotency.release(claim)
        except IdempotencyUnavailable:
            return


def _refuse_other_media_types(content_type: str | None) -> None:
    """An inquiry is JSON: a body declared as anything else (form data, text, JSON in
    another charset) is refused with 415 rather than read as JSON.  No Content-Type at all
    is read as JSON (RFC 9110 §8.3 lets the recipient decide; old clients send none)."""
    if content_type is None:
        return
    media_type, _, parameters = content_type.partition(";")
    media_type = media_type.strip().lower()
    json_type = media_type == JSON or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )
    charset = next(
        (
            value.strip().strip('"').lower()
            for name, _, value in (p.partition("=") for p in parameters.split(";"))
            if name.strip().lower() == "charset"
        ),
        "utf-8",
    )
    if json_type and charset in ("utf-8", "utf8"):
        return
    raise Problem(
        UNSUPPORTED_MEDIA_TYPE,
        f"Send the inquiry as {JSON} (UTF-8), not as {quoted(content_type)}.",
    )


def _parse_json_object(body: bytes) -> dict[str, object]:
    """The body as a JSON object whose objects repeat no key (exchange/json_body.py)."""
    try:
        return parse_object(body)
    except JsonBodyError as exc:
        raise Problem(INVALID_REQUEST, exc.message) from None


def _refused_request_id(refusal: IdempotencyRefusal) -> Problem:
    if refusal is IdempotencyRefusal.STALE:
        return Problem(
            UNAUTHENTICATED,
            "The request signature was created before the exchange's replay protection "
            "started (it restarted, or its shared state was lost), so a replay of it could "
            "not be told from the first; sign the request again, with a new created, and "
            "send it.",
            reason=Reason.STALE.value,
        )
    if refusal is IdempotencyRefusal.IN_PROGRESS:
        return Problem(
            DUPLICATE_REQUEST,
            "The first request with this X-Request-Id is still being answered; retry.",
            retry_after="1",
        )
    return Problem(
        DUPLICATE_REQUEST, "This X-Request-Id was used for a different request; use a new id."
    )


def _provider_refusal(document: object, status: int) -> bytes:
    """A provider's 4xx answer, reduced to the problem fields a consumer may see."""
    kept: dict[str, object] = {"status": status}
    if isinstance(document, dict):
        for name in ("type", "title", "code", "detail"):
            value = document.get(name)
            if isinstance(value, str):
                kept[name] = value[:PROVIDER_DETAIL_MAX]
    return orjson.dumps(kept)


def _reply_from_provider(forwarded: Forwarded, grant: Grant) -> InquiryReply:
    """The provider's JSON answer, projected to the grant's fields; never a provider's
    internal error text."""
    provider: ProviderReply = forwarded.reply
    if provider.status >= 500:
        raise Problem(PROVIDER_ERROR, f"The provider failed (HTTP {provider.status}).")
    if not forwarded.usable:
        raise Problem(PROVIDER_ERROR, "The provider's answer was not valid JSON.")
    document = forwarded.document
    if provider.status >= 400:
        body = _provider_refusal(document, provider.status)
        return InquiryReply(
            provider.status, body, PROBLEM, {"x-error-source": ErrorSource.PROVIDER.value}
        )
    if grant.projection is not None:
        if not isinstance(document, dict):
            raise Problem(PROVIDER_ERROR, "The provider's answer was not a JSON object.")
        return InquiryReply(provider.status, orjson.dumps(project(document, grant.projection)))
    return InquiryReply(provider.status, provider.body)


def _outcome_of_status(status: int) -> Outcome:
    return Outcome.OK if status < 400 else Outcome.NOT_FOUND


def _outcome_of(problem: Problem) -> Outcome:
    if problem.kind.status in (401, 403, 429):
        return Outcome.DENIED
    if problem.kind.source is ErrorSource.PROVIDER or problem.kind.status >= 500:
        return Outcome.FAILED
    return Outcome.INVALID
