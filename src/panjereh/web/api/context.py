"""What every management-API route shares: the runtime, transactions, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.interchange.registry_document import RegistryDocument, validate_as
from panjereh.registry.access import Forbidden, Principal, Role
from panjereh.storage.document_repo import export_document
from panjereh.storage.registry_ops import RegistryOps, run_ops
from panjereh.storage.users_repo import user_for_token
from panjereh.web.api.errors import Unauthenticated
from panjereh.web.runtime import Runtime

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# Access declarations: every route carries one in openapi_extra (a guard test checks).
AUTHENTICATED = {"x-access": "authenticated"}
OPERATOR = {"x-access": "operator"}
OWNER = {"x-access": "owner-agency-or-operator"}
READERS = {"x-access": "owner-agency-operator-or-auditor"}
PARTIES = {"x-access": "consumer-or-provider-agency-operator-or-auditor"}

# The roles an access declaration admits at all, whatever the object: a caller of another role
# is refused (403) before the route reads its body or looks anything up (`ApiContext.router`).
ADMITS: dict[str, frozenset[Role]] = {
    "operator": frozenset({Role.OPERATOR}),
    "owner-agency-or-operator": frozenset({Role.OPERATOR, Role.AGENCY_ADMIN}),
    "consumer-agency-or-operator": frozenset({Role.OPERATOR, Role.AGENCY_ADMIN}),
    "provider-agency-or-operator": frozenset({Role.OPERATOR, Role.AGENCY_ADMIN}),
    "operator-or-auditor": frozenset({Role.OPERATOR, Role.AUDITOR}),
}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Change(Body):
    """Every change says why; the reason is kept in the registry's audit events."""

    reason: Annotated[str, Field(min_length=3, max_length=2000)]


@dataclass(frozen=True)
class ApiContext:
    runtime: Runtime

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.runtime.engine.begin() as conn:
            yield conn

    async def principal(self, authorization: str | None) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated
        async with self.runtime.engine.connect() as conn:
            user = await user_for_token(conn, token.strip(), self.runtime.clock.now())
        if user is None:
            raise Unauthenticated
        return user.principal

    async def with_ops(
        self, who: Principal, reason: str, action: Callable[[RegistryOps], Awaitable[T]]
    ) -> T:
        """Run ``action`` in one transaction (a refusal the registry records is committed)."""

        def make(conn: AsyncConnection) -> RegistryOps:
            return RegistryOps(
                conn,
                who,
                now=self.runtime.clock.now(),
                reason=reason,
                pepper=self.runtime.pepper,
                allow_private=self.runtime.settings.allow_private_endpoints,
                payload_key=self.runtime.payload_keys is not None,
            )

        return await run_ops(self.runtime.engine, make, action)

    async def document(self) -> RegistryDocument:
        async with self.transaction() as conn:
            return await export_document(conn)

    async def authenticated(
        self, authorization: Annotated[str | None, Header()] = None
    ) -> Principal:
        """The caller of the bearer token.  One bound method for every route, so FastAPI
        resolves it once per request for the route and its role gate."""
        return await self.principal(authorization)

    def caller(self) -> Any:
        """The FastAPI dependency that authenticates the bearer token."""
        return Depends(self.authenticated)

    def role_gate(self, access: str, admitted: frozenset[Role]) -> Any:
        """A dependency refusing a caller whose role ``access`` never admits; it runs before
        FastAPI validates the body (422), so such a caller learns only that it may not."""
        names = " or ".join(sorted(admitted))
        caller = self.caller()

        async def gate(who: Principal = caller) -> None:
            if who.role not in admitted:
                raise Forbidden(f"this is for the role {names} ({access}), not {who.role}")

        return Depends(gate)

    def router(self) -> APIRouter:
        """An `APIRouter` whose routes put the role gate of their declared access
        (``openapi_extra["x-access"]``, `ADMITS`) before everything else they depend on."""
        ctx = self

        class GatedRoute(APIRoute):
            def __init__(
                self,
                path: str,
                endpoint: Callable[..., Any],
                *,
                dependencies: Sequence[Any] | None = None,
                openapi_extra: dict[str, Any] | None = None,
                **options: Any,
            ) -> None:
                access = (openapi_extra or {}).get("x-access")
                admitted = ADMITS.get(access) if isinstance(access, str) else None
                if isinstance(access, str) and admitted is not None:
                    dependencies = [ctx.role_gate(access, admitted), *(dependencies or ())]
                super().__init__(
                    path,
                    endpoint,
                    dependencies=dependencies,
                    openapi_extra=openapi_extra,
                    **options,
                )

        return APIRouter(route_class=GatedRoute)


def validated(model: type[M], data: dict[str, Any], *, allow_private: bool = False) -> M:
    """Validate a request object by the document rules (first problem: `InvalidValue`)."""
    return validate_as(model, data, allow_private=allow_private)
