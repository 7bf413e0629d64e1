"""A staff member's own account security: turning TOTP two-step sign-in on (QR code shown
once, confirmed by a first code, ten recovery codes shown once) and off (with a code).

These pages stay open to a person whom ``PANJEREH_STAFF_TOTP_REQUIRED`` confines to enrolment
(`Area.signed_in`, ``enrolment=True``).  Every change is a registry event
(`panjereh.storage.totp_repo`).
"""

from __future__ import annotations

import segno
from markupsafe import Markup
from starlette.responses import Response

from panjereh.storage.totp_repo import (
    begin_enrolment,
    confirm_enrolment,
    disable_totp,
    pending_secret,
    provisioning_uri,
    totp_status,
)
from panjereh.web.operator.area import Context
from panjereh.web.operator.forms import field, with_param
from panjereh.web.operator.pages import redirect

CODE_LIMIT = 64


def qr_svg(uri: str, label: str) -> Markup:
    """The ``otpauth://`` URI as an inline SVG QR code (no script, no style: fits the CSP)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, light="#fff", title=label)
    return Markup(svg)  # noqa: S704 - segno's own SVG; the URI is escaped by it


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


async def security(ctx: Context, *, error: str | None = None, status: int = 200) -> Response:
    runtime = ctx.area.runtime
    async with runtime.engine.connect() as conn:
        found = await totp_status(conn, ctx.viewer.user.id)
    done = ctx.query("done", limit=40)
    return ctx.render(
        "security.html",
        http_status=status,
        status=found,
        error=error,
        done=f"done.{done}" if f"done.{done}" in ctx.locale.text else None,
    )


def _enrol_page(ctx: Context, secret: str, *, error: str | None = None) -> Response:
    uri = provisioning_uri(secret, ctx.viewer.user.username)
    return ctx.render(
        "security_enrol.html",
        http_status=422 if error else 200,
        qr=qr_svg(uri, ctx.locale.text["qr_label"]),
        secret=_grouped(secret),
        error=error,
    )


async def enrol(ctx: Context) -> Response:
    """A new secret, shown now (a second visit makes another)."""
    runtime = ctx.area.runtime
    async with runtime.engine.begin() as conn:
        secret = await begin_enrolment(
            conn, ctx.viewer.user, ctx.area.sessions.totp_keys, runtime.clock.now()
        )
    return _enrol_page(ctx, secret)


async def confirm(ctx: Context) -> Response:
    runtime = ctx.area.runtime
    keys = ctx.area.sessions.totp_keys
    code = field(ctx.form, "code", limit=CODE_LIMIT)
    async with runtime.engine.begin() as conn:
        codes = await confirm_enrolment(conn, ctx.viewer.user, keys, code, runtime.clock.now())
        secret = None if codes is not None else await pending_secret(conn, ctx.viewer.user, keys)
    if codes is not None:
        return ctx.render("security_recovery.html", codes=codes)
    if secret is None:  # nothing pending (enrolled in another tab, or never started)
        return redirect(ctx.locale.url("/security"))
    return _enrol_page(ctx, secret, error="enrol_failed")


async def disable(ctx: Context) -> Response:
    runtime = ctx.area.runtime
    code = field(ctx.form, "code", limit=CODE_LIMIT)
    async with runtime.engine.begin() as conn:
        done = await disable_totp(
            conn, ctx.viewer.user, ctx.area.sessions.totp_keys, code, runtime.clock.now()
        )
    if not done:
        return await security(ctx, error="disable_failed", status=422)
    return redirect(with_param(ctx.locale.url("/security"), "done", "totp.disable"))
