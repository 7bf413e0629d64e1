"""What a result depends on: the machine, the versions, and the exchange's durability settings."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "uvicorn",
    "uvloop",
    "httptools",
    "aiohttp",
    "orjson",
    "sqlalchemy",
    "aiosqlite",
    "jsonschema-rs",
    "cryptography",
)


def _first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    text = (done.stdout or done.stderr).decode(errors="replace").strip()
    return text.splitlines()[0] if text else "unavailable"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _filesystem(path: Path) -> str:
    """The type of the filesystem holding ``path`` (tmpfs would make fsync free)."""
    best, kind = "", "unknown"
    target = str(path.resolve())
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount, fstype, *_ = line.split()
        if target.startswith(mount) and len(mount) > len(best):
            best, kind = mount, fstype
    return kind


def machine() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "packages": versions,
        "wrk": _first_line(["wrk", "-v"]),
        "nginx": _first_line(["nginx", "-v"]),
        "panjereh": metadata.version("panjereh"),
    }


async def _pragmas(database: Path) -> dict[str, str]:
    """journal_mode and synchronous as the server's own engine sets them on a connection."""
    from sqlalchemy import text

    from panjereh.storage.engine import create_engine

    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as conn:
            journal = await conn.scalar(text("PRAGMA journal_mode"))
            synchronous = await conn.scalar(text("PRAGMA synchronous"))
    finally:
        await engine.dispose()
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    return {"journal_mode": str(journal), "synchronous": names.get(int(synchronous or 0), "?")}


def conditions(database: Path, env: dict[str, str]) -> dict[str, Any]:
    """The settings that decide what the numbers mean."""
    from panjereh.config import Settings

    fields = Settings.model_fields
    batch = env.get("PANJEREH_AUDIT_BATCH_SIZE", str(fields["audit_batch_size"].default))
    redis = sorted(name for name in fields if "redis" in name)
    redis_set = {
        name: env[f"PANJEREH_{name.upper()}"] for name in redis if f"PANJEREH_{name.upper()}" in env
    }
    pragmas = asyncio.run(_pragmas(database))
    return {
        "database": f"SQLite (WAL, synchronous={pragmas['synchronous']}) in a temporary folder "
        f"on {_filesystem(database)}",
        "journal_mode": pragmas["journal_mode"],
        "synchronous": pragmas["synchronous"],
        "audit": f"group commit, one writer task, batch size up to {batch}; every answer waits "
        "for its record's commit",
        "audit_batch_size": int(batch),
        "redis_used": bool(redis_set),
        "redis": f"used ({redis_set})"
        if redis_set
        else (
            f"not used (settings {redis} left unset)" if redis else "not used (no Redis setting)"
        ),
        "cache": "cache TTL 0 on every service (no response cache)",
        "providers": "nginx stub returning fixed JSON (310 bytes); 500 to the requests "
        "declaring the purpose bench-provider-fault (1%)",
        "pinning": "server (forwarder or exchange) on core 0; wrk, the open-loop generator and "
        "nginx on core 1",
        "exchange_workers": 1,
    }
