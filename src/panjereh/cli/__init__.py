"""The `panjereh` command.  Every error a person can cause ends in one clear line, exit 2."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click
import orjson

from panjereh import __version__
from panjereh.cli.audit import audit
from panjereh.cli.audit_archive import COMMANDS as ARCHIVE_COMMANDS
from panjereh.cli.common import UserError
from panjereh.cli.exchange import exchange
from panjereh.cli.registry import registry
from panjereh.cli.users import user
from panjereh.config import (
    ENV_PREFIX,
    Settings,
    load_settings,
    resolve_payload_keys,
    resolve_pepper,
    resolve_subject_keys,
)
from panjereh.demo.seed import DemoSeed, seed_demo
from panjereh.domain.clock import SystemClock, utc_now
from panjereh.domain.errors import PanjerehError
from panjereh.simulator.population import Population
from panjereh.storage.engine import create_engine
from panjereh.storage.migrate import ensure_current, upgrade
from panjereh.storage.registry_repo import load_snapshot
from panjereh.web.runtime import exchange_keys, multiprocess_metrics_dir, refuse_unsealed_payloads

F = TypeVar("F", bound=Callable[..., Any])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Panjereh: national service exchange and citizen single window."""


@cli.command()
def version() -> None:
    """Print the version."""
    click.echo(f"panjereh {__version__}")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the database or bring it to the newest schema (safe to repeat)."""
    settings = load_settings()

    async def run() -> str:
        engine = create_engine(settings.effective_database_url)
        try:
            return await upgrade(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(run())
    click.echo(f"database schema at {revision} ({_redacted(settings.effective_database_url)})")
    keys = exchange_keys(settings, SystemClock())
    click.echo(f"exchange signing key {keys.active_id}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the credentials as JSON.")
def demo(as_json: bool) -> None:
    """Seed the demonstration government (development environment only; idempotent)."""
    settings = load_settings()
    if not settings.is_development:
        raise UserError(
            "demo data exists only in development: set PANJEREH_ENV=development "
            "(never on a production server)"
        )
    if not settings.allow_private_endpoints:
        raise UserError(
            "the demo's simulated agencies listen on this machine: set "
            "PANJEREH_ALLOW_PRIVATE_ENDPOINTS=true to register their loopback endpoints"
        )
    pepper = resolve_pepper(settings)

    async def run() -> DemoSeed:
        engine = create_engine(settings.effective_database_url)
        try:
            await ensure_current(engine)
            return await seed_demo(
                engine, pepper=pepper, public_url=settings.effective_public_url, now=utc_now()
            )
        finally:
            await engine.dispose()

    seeded = asyncio.run(run())
    if as_json:
        click.echo(
            orjson.dumps(
                {
                    "credentials": [
                        {"system": c.system, "api_key": c.api_key, "granted": c.granted}
                        for c in seeded.credentials
                    ],
                    "users": [
                        {"username": u.username, "password": u.password, "role": u.role.value}
                        for u in seeded.users
                    ],
                }
            )
        )
        return
    _print_welcome(settings, seeded)


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: PANJEREH_HOST).")
@click.option("--port", type=int, default=None, help="Port (default: PANJEREH_PORT).")
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Server processes on the one port (default: PANJEREH_WORKERS); more than 1 needs "
    "PostgreSQL and Redis.",
)
@click.option(
    "--check-port",
    is_flag=True,
    help="Only check that the address is free to listen on, and exit (make run does this "
    "before migrating and seeding).",
)
def serve(host: str | None, port: int | None, workers: int | None, check_port: bool) -> None:
    """Serve the portal, the exchange and (if enabled) the simulated agencies."""
    import uvicorn

    from panjereh.web.app import create_app
    from panjereh.web.serving import uvicorn_options

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if workers is not None:
        overrides["workers"] = workers
    settings = load_settings(**overrides)
    _check_port_free(settings.host, settings.port)
    if check_port:
        return
    if settings.workers > 1:
        _check_workers(settings)

    async def check() -> None:
        engine = create_engine(settings.effective_database_url)
        try:
            await ensure_current(engine)
            services = (await load_snapshot(engine)).services.values()
            refuse_unsealed_payloads(services, resolve_payload_keys(settings))
            if settings.simulator_enabled:
                _check_demo_follows(settings, [s.endpoint_url for s in services])
        finally:
            await engine.dispose()

    asyncio.run(check())
    if settings.workers > 1:
        _serve_workers(settings, overrides)
        return
    app = create_app(settings, serving=True)
    click.echo(f"Panjereh {__version__} ({settings.env.value}) on {settings.effective_public_url}/")
    uvicorn.Server(uvicorn.Config(app, **uvicorn_options(settings))).run()


def _check_port_free(host: str, port: int) -> None:
    """Refuse, with the fix in one line, an address something else already listens on (before
    any migration or seeding, not as ``[Errno 98]`` after them)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
            other = port + 1 if port < 65535 else 8000
            raise UserError(
                f"port {port} on {host} is already in use (another `make run` or "
                f"`panjereh serve`?): stop it, or choose another port, e.g. "
                f"PANJEREH_PORT={other} make run  (or: panjereh serve --port {other})"
            ) from None


def _check_demo_follows(settings: Settings, endpoints: Iterable[str]) -> None:
    """The demo's services call the simulated agencies at the address `panjereh demo` was run
    for; served elsewhere, their inquiries would go to whatever listens there. Refuse."""
    here = settings.effective_public_url.rstrip("/") + "/simulator/"
    elsewhere = Counter(
        url.split("/simulator/", 1)[0]
        for url in endpoints
        if "/simulator/" in url and not url.startswith(here)
    )
    if elsewhere:
        base, count = elsewhere.most_common(1)[0]
        raise UserError(
            f"the demo's {count} simulated services call {base}/simulator/ (the address "
            f"`panjereh demo` was run for), but this server is {settings.effective_public_url}: "
            f"their inquiries would go elsewhere. Point them here first: "
            f"PANJEREH_PORT={settings.port} panjereh demo  (or serve on the demo's address)"
        )


def _check_workers(settings: Settings) -> None:
    """Several workers share one database and one set of limits and replays, or refuse."""
    missing = []
    if not settings.effective_database_url.startswith("postgresql"):
        missing.append("PostgreSQL (PANJEREH_DATABASE_URL=postgresql+asyncpg://...)")
    if not settings.redis_url:
        missing.append("Redis (PANJEREH_REDIS_URL=redis://...)")
    if missing:
        raise UserError(
            f"--workers {settings.workers} needs " + " and ".join(missing) + ": the embedded "
            "SQLite has one writer, and rate limits and replays must be shared by the workers"
        )


def _serve_workers(settings: Settings, overrides: dict[str, Any]) -> None:
    """N processes on one port (uvicorn's supervisor); each builds its app from the
    environment, so the command-line options are passed on there, and so is
    PROMETHEUS_MULTIPROC_DIR (read when prometheus_client is imported in a worker)."""
    import uvicorn

    from panjereh.web.serving import uvicorn_options

    # A missing secret stops here, not in every worker.
    resolve_subject_keys(settings, resolve_pepper(settings))
    folder = multiprocess_metrics_dir(settings)
    assert folder is not None  # noqa: S101 - settings.workers > 1
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):  # counters of an earlier run must not add up
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    for name, value in overrides.items():
        os.environ[f"{ENV_PREFIX}{name.upper()}"] = str(value)
    click.echo(
        f"Panjereh {__version__} ({settings.env.value}) on {settings.effective_public_url}/ "
        f"with {settings.workers} workers"
    )
    uvicorn.run(
        "panjereh.web.app:app_from_environment",
        factory=True,
        workers=settings.workers,
        **uvicorn_options(settings),
    )


def _print_welcome(settings: Settings, seeded: DemoSeed) -> None:
    base = settings.effective_public_url
    credentials = seeded.credentials
    changed = sum(seeded.result.created.values()) + sum(seeded.result.updated.values())
    click.echo("")
    click.echo(
        f"Panjereh demonstration government is ready: {seeded.open_services:,} inquiry "
        f"services open to inquiries ({seeded.services:,} registered, drafts and retired ones "
        f"included; the portal lists the open ones), {changed:,} registry objects created or "
        "updated this time."
    )
    click.echo(f"  Portal (Persian):  {base}/")
    click.echo(f"  Portal (English):  {base}/en/")
    click.echo(f"  Exchange:          {base}/exchange/v1/services")
    click.echo(f"  API docs:          {base}/exchange/v1/openapi.json  {base}/api/v1/openapi.json")
    click.echo(f"  Operator area:     {base}/operator/  {base}/en/operator/")
    click.echo("")
    click.echo("Demo credentials (development only):")
    for item in credentials:
        granted = "holds no grant on civil-registry.person.v1 (refused: 403)"
        if "civil-registry.person.v1" in item.granted:
            granted = f"{len(item.granted)} grants, including civil-registry.person.v1"
        click.echo(f"  {item.system:28} ApiKey {item.api_key}   {granted}")
    click.echo("")
    click.echo("Demo accounts (user name / password):")
    for account in seeded.users:
        scope = f" of {account.agency}" if account.agency else ""
        click.echo(f"  {account.username:24} {account.password}   {account.role.value}{scope}")
    sample = credentials[0].api_key
    citizen = Population(settings.simulator_seed).sample(1)[0].national_code
    click.echo("")
    click.echo("Try an inquiry:")
    click.echo(
        f"  curl -s -X POST {base}/exchange/v1/services/civil-registry.person.v1 \\\n"
        f"       -H 'Authorization: ApiKey {sample}' -H 'Content-Type: application/json' \\\n"
        "       -H 'X-Purpose: benefit-eligibility' "
        f'-d \'{{"national_code": "{citizen}"}}\''
    )
    click.echo(f"  then sign in as that citizen at {base}/dev/sign-in: who looked at my data?")
    click.echo("")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: person-facing errors become one line on stderr and exit status 2."""
    try:
        cli.main(args=argv, prog_name="panjereh", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PanjerehError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


cli.add_command(exchange)
cli.add_command(audit)
for _command in ARCHIVE_COMMANDS:  # partitions, archive, verify-archive, detach
    audit.add_command(_command)
cli.add_command(registry)
cli.add_command(user)
