"""The area's changes: every one a POST with the session's CSRF token (checked by `Area`) and
a reason, made through `RegistryOps`, which authorizes it and records the registry event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from starlette.responses import Response

from panjereh.domain.errors import InvalidValue
from panjereh.registry.model import Status
from panjereh.storage.registry_ops import RegistryOps
from panjereh.web.operator.area import Context, Handler
from panjereh.web.operator.forms import (
    REASON_MAX,
    REASON_MIN,
    field,
    reason_of,
    safe_local_path,
    with_param,
)
from panjereh.web.operator.pages import redirect

GrantVerb = Literal["approve", "reject", "revoke"]


def _reason(ctx: Context) -> str:
    reason = reason_of(ctx.form)
    if reason is None:
        raise InvalidValue(
            "operator.reason",
            message_fa=f"دلیل تغییر را بنویسید ({REASON_MIN} تا {REASON_MAX} نویسه).",
            message_en=(
                f"Write the reason for the change ({REASON_MIN} to {REASON_MAX} characters)."
            ),
            field="reason",
        )
    return reason


def _back(ctx: Context, default: str, done: str) -> Response:
    """Back to the page the form was on (if it is one of ours), saying what was done."""
    target = safe_local_path(field(ctx.form, "back", limit=500)) or ctx.locale.url(default)
    return redirect(with_param(target, "done", done))


def _grant_change(
    verb: GrantVerb, consumer: str, service_id: str
) -> Callable[..., Awaitable[object]]:
    async def change(ops: RegistryOps) -> object:
        if verb == "revoke":
            return await ops.revoke_grant(consumer, service_id)
        return await ops.decide_grant(consumer, service_id, approve=verb == "approve")

    return change


def grant_action(verb: GrantVerb) -> Handler:
    async def handler(ctx: Context) -> Response:
        params = ctx.request.path_params
        consumer = f"{params['agency']}/{params['system']}"
        reason = _reason(ctx)
        await ctx.with_ops(reason, _grant_change(verb, consumer, params["service_id"]))
        return _back(ctx, "/grants", f"grant.{verb}")

    return handler


def agency_status(status: Status) -> Handler:
    verb = "suspend" if status is Status.SUSPENDED else "reactivate"

    async def handler(ctx: Context) -> Response:
        code = ctx.request.path_params["code"]
        reason = _reason(ctx)
        await ctx.with_ops(reason, lambda ops: ops.set_agency_status(code, status))
        return _back(ctx, f"/agencies/{code}", f"agency.{verb}")

    return handler


def system_status(status: Status) -> Handler:
    verb = "suspend" if status is Status.SUSPENDED else "reactivate"

    async def handler(ctx: Context) -> Response:
        agency, system = ctx.request.path_params["agency"], ctx.request.path_params["system"]
        reason = _reason(ctx)
        await ctx.with_ops(reason, lambda ops: ops.set_system_status(f"{agency}/{system}", status))
        return _back(ctx, f"/agencies/{agency}", f"system.{verb}")

    return handler
