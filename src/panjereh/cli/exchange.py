"""`panjereh exchange ...`: the exchange's signing keys, and checking a signed answer offline."""

from __future__ import annotations

import asyncio
import base64
import getpass
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.cli.common import UserError, cli_principal, transaction
from panjereh.cli.common import settings as load
from panjereh.config import Settings
from panjereh.domain.clock import SystemClock, utc_now
from panjereh.domain.events import AuditEvent
from panjereh.exchange.keys import retire, rotate
from panjereh.exchange.signatures import (
    Reason,
    ResponseVerifier,
    SignatureError,
    Verified,
    content_digest,
)
from panjereh.storage.events_repo import ConnectionAuditSink
from panjereh.web.runtime import exchange_keys


@click.group()
def exchange() -> None:
    """The exchange's signing keys and signed answers."""


@exchange.command("keys")
def list_keys() -> None:
    """List the published signing keys (the first one is made if there is none)."""
    settings = load()
    keys = exchange_keys(settings, SystemClock())
    for key in sorted(keys.published.values(), key=lambda k: k.key_id, reverse=True):
        state = "active" if key.active else "retired"
        click.echo(f"{key.key_id}  {state}  {key.jwk()['x']}")


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name for this uid (some containers)
        return "unknown"


def _key_options(function: Callable[..., None]) -> Callable[..., None]:
    """--actor and --reason, recorded in the control-plane event of the key change."""
    function = click.option(
        "--reason", default="exchange signing key rotation", show_default=True, help="Why."
    )(function)
    return click.option(
        "--actor", default=_whoami, help="Who (default: your user name on this machine)."
    )(function)


async def _emit_key_event(
    conn: AsyncConnection, settings: Settings, action: str, key_id: str, actor: str, reason: str
) -> None:
    await ConnectionAuditSink(conn).emit(
        AuditEvent(
            at=utc_now(),
            actor=cli_principal(actor).actor,
            action=action,
            object_type="exchange-key",
            object_id=key_id,
            reason=reason,
            before=None,
            after={"key_id": key_id, "keys_dir": str(settings.effective_keys_dir)},
        )
    )


@exchange.command("rotate-key")
@_key_options
def rotate_key(actor: str, reason: str) -> None:
    """Make a new active signing key; older keys stay published for verification.

    Running servers pick the new key up within a few seconds. The rotation is recorded as a
    control-plane event (exchange-key.rotate), in a transaction opened before the key is made:
    a database that cannot take the event stops the rotation first.
    """
    settings = load()

    async def go() -> str:
        async with transaction(settings) as conn:
            key_id = rotate(settings.effective_keys_dir, utc_now())
            await _emit_key_event(conn, settings, "exchange-key.rotate", key_id, actor, reason)
        return key_id

    key_id = asyncio.run(go())
    click.echo(f"new active key {key_id} in {settings.effective_keys_dir}")


@exchange.command("retire-key")
@click.argument("key_id")
@_key_options
def retire_key(key_id: str, actor: str, reason: str) -> None:
    """Delete an old key's private half (its public half stays published); recorded as a
    control-plane event (exchange-key.retire)."""
    settings = load()

    async def go() -> None:
        async with transaction(settings) as conn:
            retire(settings.effective_keys_dir, key_id)
            await _emit_key_event(conn, settings, "exchange-key.retire", key_id, actor, reason)

    asyncio.run(go())
    click.echo(f"retired {key_id}: it signs nothing more and stays published")


def parse_http_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, lower-case headers (repeats comma-joined) and body of a saved HTTP/1.x answer,
    as ``curl -si`` writes it (a leading ``100 Continue`` block is skipped)."""
    rest = raw
    while True:
        head, sep, body = rest.partition(b"\r\n\r\n")
        if not sep:
            head, sep, body = rest.partition(b"\n\n")
        if not sep:
            raise UserError("the answer file has no blank line between headers and body")
        lines = head.decode("latin-1").splitlines()
        parts = lines[0].split(" ", 2) if lines else []
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise UserError("the answer file must start with an HTTP status line (curl -si)")
        if parts[1] != "100":
            break
        rest = body
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise UserError(f"not a header line: {line[:80]!r}")
        key, value = name.strip().lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return int(parts[1]), headers, body


def _read_keys(source: str) -> dict[str, Ed25519PublicKey]:
    try:
        if source.startswith(("http://", "https://")):
            import httpx

            document = httpx.get(source, timeout=10).raise_for_status().json()
        else:
            document = orjson.loads(Path(source).read_bytes())
        keys = {}
        for jwk in document["keys"]:
            x = str(jwk["x"])
            raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
            keys[str(jwk["kid"])] = Ed25519PublicKey.from_public_bytes(raw)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{source}: not the exchange's key set (JWKS): {exc}") from None
    return keys


@exchange.command("verify-response")
@click.argument("answer", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--request-body",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The exact body of the request this answers (binds the answer to it).",
)
@click.option("--request-digest", help="Or the request's Content-Digest value.")
@click.option(
    "--keys",
    "keys_source",
    required=True,
    help="The exchange's JWKS: a file saved from GET /exchange/v1/keys, or its URL.",
)
def verify_response(
    answer: Path, request_body: Path | None, request_digest: str | None, keys_source: str
) -> None:
    """Check the exchange's signature on a saved answer (``curl -si ... > ANSWER``), offline.

    Exit status 0 and one line when it verifies; 2 and the reason when it does not.
    """
    if (request_body is None) == (request_digest is None):
        raise UserError("give exactly one of --request-body and --request-digest")
    status, headers, body = parse_http_response(answer.read_bytes())
    sent = request_body.read_bytes() if request_body is not None else None
    digest = request_digest or content_digest(sent or b"")
    keys = _read_keys(keys_source)

    def check(request_digest: str) -> Verified:
        return ResponseVerifier().verify(
            status=status,
            headers=headers,
            body=body,
            request_headers={"content-digest": request_digest},
            resolve_key=keys.get,
        )

    try:
        verified = check(digest)
    except SignatureError as exc:
        if exc.reason is not Reason.BAD_SIGNATURE:
            raise UserError(f"the answer does NOT verify: {exc}") from None
        raise UserError(_why_not(sent, check)) from None
    created = datetime.fromtimestamp(verified.created, UTC).isoformat()
    click.echo(
        f"verified: HTTP {status}, exchange id {headers.get('x-exchange-id', '?')}, "
        f"signed by {verified.key_id} at {created}"
    )


def _why_not(sent: bytes | None, check: Callable[[str], Verified]) -> str:
    """Which covered part differs, as far as it can be told.

    The answer's signature covers its status, its own headers and digest, and the digest of the
    request that was sent; a saved request body that differs by a trailing newline (``echo``
    adds one) is the usual cause, and is named when trimming it makes the answer verify.
    """
    if sent is not None:
        trimmed = sent.rstrip(b"\r\n")
        if trimmed != sent:
            try:
                check(content_digest(trimmed))
            except SignatureError:
                pass
            else:
                return (
                    "the answer does NOT verify with this request body, but does without its "
                    "trailing newline: the saved request file is not the exact bytes that were "
                    "sent (echo adds a newline). Save the body with printf '%s' '{...}' > "
                    "request.json and send that file with curl --data-binary @request.json."
                )
    what = (
        "the request body given is not the exact bytes that were sent (the signature covers "
        "its digest)"
        if sent is not None
        else "the request digest given is not the one of the request that was sent"
    )
    return (
        f"the answer does NOT verify: {what}, or the answer's status or a signed header was "
        "changed after it was saved, or another key signed it."
    )
