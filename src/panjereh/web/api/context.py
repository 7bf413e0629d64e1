"""What every management-API route shares: the runtime, transactions, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.interchange.registry_document import RegistryDocument, validate_as
from panjereh.registry.access import Principal
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

    def caller(self) -> Any:
        """The FastAPI dependency that authenticates the bearer token."""

        async def dependency(authorization: Annotated[str | None, Header()] = None) -> Principal:
            return await self.principal(authorization)

        return Depends(dependency)


def validated(model: type[M], data: dict[str, Any], *, allow_private: bool = False) -> M:
    """Validate a request object by the document rules (first problem: `InvalidValue`)."""
    return validate_as(model, data, allow_private=allow_private)
