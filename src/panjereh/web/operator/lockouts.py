"""The sign-in throttle's locks (`panjereh.domain.throttle`): operators and auditors see them,
an operator lifts one (with a reason; the throttle writes the registry event)."""

from __future__ import annotations

from starlette.responses import Response

from panjereh.registry.access import Forbidden, NotFound
from panjereh.web.operator.actions import _reason
from panjereh.web.operator.area import Context
from panjereh.web.operator.forms import field, with_param
from panjereh.web.operator.pages import redirect

KEY_ID_LENGTH = 64


async def lockouts(ctx: Context) -> Response:
    if not ctx.viewer.principal.reads_everything:
        raise Forbidden("only auditors and operators")
    runtime = ctx.area.runtime
    now = runtime.clock.now()
    done = ctx.query("done", limit=40)
    return ctx.render(
        "lockouts.html",
        states=await runtime.throttle.lockouts(now),
        may_lift=ctx.viewer.principal.is_operator,
        done=f"done.{done}" if f"done.{done}" in ctx.locale.text else None,
    )


async def lift(ctx: Context) -> Response:
    """Forget one key's failures and lock (operators only: `Access.OPERATOR`)."""
    key = field(ctx.form, "key", limit=KEY_ID_LENGTH)
    reason = _reason(ctx)
    runtime = ctx.area.runtime
    lifted = await runtime.throttle.lift(
        key, runtime.clock.now(), ctx.viewer.principal.actor, reason
    )
    if lifted is None:
        raise NotFound("no such lock")
    return redirect(with_param(ctx.locale.url("/lockouts"), "done", "lockout.lift"))
