"""Every route declares who may call it; a guard test fails on a route without a policy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from starlette.routing import Route


class Access(StrEnum):
    PUBLIC = "public"  # anyone, no sign-in (portal pages, public metadata, health)
    SYSTEM_KEY = "system-key"  # an agency system's API key (the exchange data plane)
    PUBLIC_OR_SYSTEM_KEY = "public-or-system-key"  # public; a key narrows it to the caller's
    DEVELOPMENT = "development"  # exists only when PANJEREH_ENV=development
    # The operator area: a signed-in web session (object-level rules apply on top).
    SIGNED_IN = "signed-in"
    # The operator area, for a signed-in person with the operator role only.
    OPERATOR = "operator"
    # The portal, for a signed-in citizen (a portal session; object-level rules on top).
    CITIZEN = "citizen"
    # Monitoring (/metrics): `Authorization: Bearer <PANJEREH_METRICS_TOKEN>` when that is set,
    # otherwise only requests from a loopback address (others get 404).
    MONITORING = "monitoring"


def route(
    path: str,
    endpoint: Callable[..., Any],
    *,
    access: Access,
    methods: Sequence[str] = ("GET",),
    name: str | None = None,
) -> Route:
    """A Starlette route that carries its access policy (read back by `access_of`)."""
    built = Route(path, endpoint, methods=list(methods), name=name)
    built.access = access  # type: ignore[attr-defined]
    return built


def access_of(item: object) -> Access | None:
    value = getattr(item, "access", None)
    return value if isinstance(value, Access) else None
