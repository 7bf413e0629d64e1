"""The exchange benchmark: one exchange worker against the plain Python forwarder, same run.

It starts the stub providers (nginx answering fixed JSON, bench/loadgen/stub.py), builds a
registry of ``--services`` services in a temporary database (bench/exchange_registry.py), then
drives the plain forwarder (bench/forwarder.py) and ``panjereh serve`` in turn, each pinned to
core 0 while the load generators and the stub share core 1:

- throughput with a closed loop: wrk sending pre-generated requests (bench/wrk/pool.lua);
- latency with a fixed-rate open loop (bench/loadgen/openloop.py, no coordinated omission).

The mix (bench/loadgen/pool.py): Zipf over the services, national codes from 1 M citizens,
cache TTL 0, 80% API-key and 20% signed callers, 3% denied, 1% provider errors.  Signed requests
are made with ``panjereh.exchange.signatures`` when it exists and the exchange accepts them;
until then that share sends API keys and the results say so.  After each exchange run the
audit rows are counted and compared with the answers the generators saw.

Writes bench/results/exchange.json and bench/results/exchange.md.  ``--profile FILE.svg`` also
records the exchange with py-spy under closed-loop load, after (not during) the measured runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.exchange_registry import BenchRegistry, build_registry
from bench.loadgen import procs, report
from bench.loadgen.environment import conditions, machine
from bench.loadgen.openloop import send_one
from bench.loadgen.pool import Mix, PoolBuilder, PoolStats, Signer, exchange_signer
from bench.loadgen.profile import finish_profile, record_profile
from bench.loadgen.stub import nginx_binary, nginx_config

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
LUA = HERE / "wrk" / "pool.lua"
PYTHON = sys.executable
PANJEREH = str(Path(PYTHON).parent / "panjereh")
SERVER_CORE, LOAD_CORE = 0, 1
# Pool sizes: comfortably more requests than the fastest server can take in the run.
FORWARDER_MAX_RATE, EXCHANGE_MAX_RATE = 9_000, 7_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=25.0, help="closed loop, seconds")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--open-duration", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="open loop, inquiries/s")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--signed-share", type=float, default=0.20)
    parser.add_argument("--denied-share", type=float, default=0.03)
    parser.add_argument("--fault-share", type=float, default=0.01)
    parser.add_argument("--profile", type=Path, help="record a py-spy flame graph (SVG) here")
    parser.add_argument("--profile-seconds", type=float, default=20.0)
    parser.add_argument(
        "--profile-open-loop",
        action="store_true",
        help="profile under the fixed-rate open loop (--rate) instead of wrk's closed loop",
    )
    parser.add_argument(
        "--quiet-threshold", type=float, default=10.0, help="%% busy per core before a run"
    )
    parser.add_argument("--quiet-wait", type=float, default=30.0, help="at most, seconds")
    parser.add_argument("--no-write", action="store_true", help="print; leave bench/results")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="PANJEREH_NAME=VALUE",
        help="a setting for the exchange (repeatable), e.g. PANJEREH_AUDIT_COMMIT_DELAY_MS=0",
    )
    return parser.parse_args(argv)


def missing_tools() -> list[str]:
    found = {"wrk": shutil.which("wrk"), "taskset": shutil.which("taskset")}
    found["nginx"] = nginx_binary()
    return [name for name, path in found.items() if path is None]


class AuditRows:
    """Reads the audit table of the run's SQLite database (WAL: reads never block the writer)."""

    def __init__(self, database: Path) -> None:
        self._database = database

    def by_answer(self) -> Counter[str]:
        """Rows per ``"<status> <error type or outcome>"``."""
        with sqlite3.connect(f"file:{self._database}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT status_code, coalesce(error_type, outcome), count(*) FROM audit_records "
                "GROUP BY 1, 2"
            ).fetchall()
        return Counter({f"{status} {kind}": int(n) for status, kind, n in rows})

    def settled(self, timeout: float = 20.0) -> Counter[str]:
        """The counts once they stop moving (the writer has committed what was answered)."""
        deadline = time.monotonic() + timeout
        last = self.by_answer()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.by_answer()
            if now == last:
                return now
            last = now
        return last


def _delta(after: Counter[str], before: Counter[str]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in sorted(after) if after[k] - before[k]}


class Run:
    """One benchmark run in a temporary folder."""

    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.folder = folder
        self.data = folder / "data"
        self.database = self.data / "panjereh.db"
        self.pepper = secrets.token_urlsafe(32)
        self.stub_port = procs.free_port()
        self.stub_pid = 0
        self.mix = Mix(
            signed_share=args.signed_share,
            denied_share=args.denied_share,
            fault_share=args.fault_share,
        )
        self.registry: BenchRegistry | None = None
        self.pools: dict[str, PoolStats] = {}
        self.signed_mode = "not attempted"
        self.cores_of = {
            "server": SERVER_CORE,
            "stub": LOAD_CORE,
            "children": LOAD_CORE,
            "harness": LOAD_CORE,
        }
        self.quiet: dict[str, Any] = {}

    def env(self, port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")}
        env.update(
            PANJEREH_ENV="development",
            PANJEREH_DATA_DIR=str(self.data),
            PANJEREH_ALLOW_PRIVATE_ENDPOINTS="true",
            PANJEREH_API_KEY_PEPPER=self.pepper,
            PANJEREH_SIMULATOR="false",
            PANJEREH_HOST="127.0.0.1",
            PANJEREH_PORT=str(port),
            PANJEREH_LOG_LEVEL="warning",
        )
        for setting in self.args.setting:
            name, sep, value = setting.partition("=")
            if not sep or not name.startswith("PANJEREH_"):
                raise SystemExit(f"--setting {setting!r}: give PANJEREH_NAME=VALUE")
            env[name] = value
        return env

    # -- set-up ---------------------------------------------------------------------------

    @contextmanager
    def stub(self) -> Iterator[None]:
        config = nginx_config(self.folder / "nginx", self.stub_port)
        nginx = nginx_binary()
        assert nginx is not None
        with (self.folder / "nginx.log").open("wb") as log:
            process = procs.start_pinned(LOAD_CORE, [nginx, "-c", str(config)], log=log)
        try:
            procs.wait_ready(f"http://127.0.0.1:{self.stub_port}/ready", process, timeout=10)
            self.stub_pid = process.pid
            yield
        finally:
            process.terminate()
            process.wait(10)

    def build_database(self) -> None:
        upgrade = subprocess.run(
            [PANJEREH, "db", "upgrade"], env=self.env(8000), capture_output=True, check=False
        )
        if upgrade.returncode != 0:
            raise procs.BenchError(f"panjereh db upgrade failed: {upgrade.stderr.decode()}")
        self.registry = build_registry(
            pepper=self.pepper.encode(),
            upstream=f"http://127.0.0.1:{self.stub_port}",
            services=self.args.services,
            consumers=self.args.consumers,
            ungranted=20,
        )
        asyncio.run(_import(self.database, self.registry))

    def signers(self) -> dict[str, Signer] | None:
        assert self.registry is not None
        found = {c.ref: exchange_signer(c) for c in self.registry.callers}
        ready = {ref: signer for ref, signer in found.items() if signer is not None}
        return ready or None

    def pool(self, name: str, count: int, port: int, *, signed: bool, seed: int) -> Path:
        assert self.registry is not None
        builder = PoolBuilder(
            self.registry,
            replace(self.mix, seed=seed),
            authority=f"127.0.0.1:{port}",
            signers=self.signers() if signed else None,
        )
        path = self.folder / f"{name}.pool"
        self.pools[name] = builder.write(path, count)
        return path

    # -- measuring ------------------------------------------------------------------------

    def _window(self, server_pid: int | None, measured: bool) -> tuple[procs.CpuWindow, Any]:
        quiet = None
        if measured:  # wait for other work on the machine to end (bounded)
            quiet = procs.wait_quiet(self.args.quiet_threshold, self.args.quiet_wait)
        pids = {"stub": self.stub_pid} | ({"server": server_pid} if server_pid else {})
        window = procs.CpuWindow(pids)
        window.start()
        return window, quiet

    def closed_loop(
        self, port: int, pool: Path, server_pid: int | None, seconds: float, *, measured: bool
    ) -> dict[str, Any]:
        window, quiet = self._window(server_pid, measured)
        result = procs.run_wrk(
            url=f"http://127.0.0.1:{port}",
            script=LUA,
            pool=pool,
            core=LOAD_CORE,
            duration=seconds,
            connections=self.args.connections,
        )
        result["cpu"] = window.stop(self.cores_of)
        result["quiet_before"] = quiet
        result["connections"] = self.args.connections
        result["server_cpu"] = result["cpu"]["process_cpu_percent"].get("server")
        return result

    def open_loop(
        self, port: int, pool: Path, server_pid: int | None, seconds: float
    ) -> dict[str, Any]:
        window, quiet = self._window(server_pid, measured=True)
        result = procs.run_open_loop(
            port=port, pool=pool, core=LOAD_CORE, rate=self.args.rate, duration=seconds,
            python=PYTHON,
        )  # fmt: skip
        result["cpu"] = window.stop(self.cores_of)
        result["quiet_before"] = quiet
        result["server_cpu"] = result["cpu"]["process_cpu_percent"].get("server")
        return result

    # -- the phases -----------------------------------------------------------------------

    def baseline(self) -> dict[str, Any]:
        """The stub alone (closed loop), and the open-loop generator against it: what the
        load core can do before any Python server is in the way."""
        pool = self.pool(
            "stub", int(self.args.rate * 10) + 10, self.stub_port, signed=False, seed=1
        )
        stub = self.closed_loop(self.stub_port, pool, None, 5, measured=True)
        capability = self.open_loop(self.stub_port, pool, None, 10)
        return {"stub": stub, "generator_capability": capability}

    def forwarder(self) -> dict[str, Any]:
        port = procs.free_port()
        command = [PYTHON, str(HERE / "forwarder.py"), "--port", str(port)]
        command += ["--upstream", f"http://127.0.0.1:{self.stub_port}"]
        args = self.args
        closed_pool = self.pool(
            "forwarder", int(args.duration * FORWARDER_MAX_RATE), port, signed=True, seed=2
        )
        open_pool = self.pool(
            "forwarder-open", int(args.rate * args.open_duration) + 10, port, signed=True, seed=3
        )
        with (self.folder / "forwarder.log").open("wb") as log:
            server = procs.start_pinned(SERVER_CORE, command, log=log)
        try:
            procs.wait_ready(f"http://127.0.0.1:{port}/ready", server)
            self.closed_loop(port, open_pool, server.pid, args.warmup, measured=False)
            closed = self.closed_loop(port, closed_pool, server.pid, args.duration, measured=True)
            open_ = self.open_loop(port, open_pool, server.pid, args.open_duration)
        finally:
            procs.stop(server)
        return {"closed_loop": closed, "open_loop": open_}

    def probe_signed(self, port: int) -> bool:
        """Does the exchange accept a signed request (no API key)?  Sets `signed_mode`."""
        signers = self.signers()
        if signers is None or self.mix.signed_share == 0:
            self.signed_mode = (
                "API keys only: panjereh.exchange.signatures does not exist yet, so the "
                f"{self.mix.signed_share:.0%} signed share sent API keys"
            )
            return False
        assert self.registry is not None
        probe = PoolBuilder(
            self.registry,
            Mix(signed_share=1.0, denied_share=0, fault_share=0),
            authority=f"127.0.0.1:{port}",
            signers=signers,
        )
        status = asyncio.run(send_one(port, probe.one(0)[3]))
        if 200 <= status < 300:
            self.signed_mode = f"{self.mix.signed_share:.0%} signed (RFC 9421, Ed25519)"
            return True
        self.signed_mode = (
            f"API keys only: the exchange answered {status} to a signed request, so the "
            f"{self.mix.signed_share:.0%} signed share sent API keys"
        )
        return False

    def exchange(self) -> dict[str, Any]:
        port = procs.free_port()
        args = self.args
        audit = AuditRows(self.database)
        log_path = self.folder / "exchange.log"
        with log_path.open("wb") as log:
            command = [PANJEREH, "serve"]
            server = procs.start_pinned(SERVER_CORE, command, env=self.env(port), log=log)
        try:
            procs.wait_ready(f"http://127.0.0.1:{port}/readyz", server)
            signed = self.probe_signed(port)
            warm = self.pool(
                "warm", int(args.warmup * EXCHANGE_MAX_RATE), port, signed=signed, seed=4
            )
            closed_pool = self.pool(
                "exchange", int(args.duration * EXCHANGE_MAX_RATE), port, signed=signed, seed=5
            )
            self.closed_loop(port, warm, server.pid, args.warmup, measured=False)
            before = audit.settled()
            closed = self.closed_loop(port, closed_pool, server.pid, args.duration, measured=True)
            after_closed = audit.settled()
            closed["audit_errors"] = _delta(after_closed, before)
            closed["audit_rows"] = sum(closed["audit_errors"].values())
            open_pool = self.pool(
                "exchange-open", int(args.rate * args.open_duration) + 10, port, signed=signed,
                seed=6,
            )  # fmt: skip
            open_ = self.open_loop(port, open_pool, server.pid, args.open_duration)
            after_open = audit.settled()
            open_["audit_errors"] = _delta(after_open, after_closed)
            open_["audit_rows"] = sum(open_["audit_errors"].values())
            profile = self.profile(port, server.pid) if args.profile else None
            rows_before_stop = sum(audit.settled().values())
        finally:
            status = procs.stop(server)
        log_text = log_path.read_text(errors="replace")
        result: dict[str, Any] = {
            "closed_loop": closed,
            "open_loop": open_,
            "signed_requests": self.signed_mode,
            "audit": {
                "rows_before_stop": rows_before_stop,
                "rows_after_stop": sum(audit.by_answer().values()),
                "writer_failures": log_text.count("audit batch of"),
                "exit_status": status,
            },
        }
        if profile is not None:
            result["profile"] = profile
        return result

    def profile(self, port: int, pid: int) -> dict[str, Any]:
        """py-spy on the exchange while wrk keeps it busy (not a measured run)."""
        seconds = self.args.profile_seconds
        pool = self.pool("profile", int(seconds * EXCHANGE_MAX_RATE), port, signed=False, seed=7)
        started = record_profile(pid, seconds, self.folder, self.args.profile)
        if self.args.profile_open_loop:
            load = self.open_loop(port, pool, pid, seconds + 1)
        else:
            load = self.closed_loop(port, pool, pid, seconds + 1, measured=False)
        summary = finish_profile(started)
        summary["rate_while_profiled"] = load.get("rate", load.get("achieved_rate"))
        if self.args.profile:
            summary["flamegraph"] = str(self.args.profile)
        return summary


async def _import(database: Path, registry: BenchRegistry) -> None:
    """Load the registry document the way ``panjereh demo`` does (import_document in one
    transaction); the YAML round trip would only add a minute of parsing."""
    from panjereh.storage.document_repo import import_document
    from panjereh.storage.engine import create_engine

    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.begin() as conn:
            await import_document(
                conn,
                registry.document,
                actor="bench",
                reason="exchange benchmark",
                now=datetime.now(UTC),
                allow_private=True,  # the stub providers listen on loopback
            )
    finally:
        await engine.dispose()


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, cwd=HERE, check=False
    )
    return done.stdout.decode().strip() or "unknown"


def measure(args: argparse.Namespace) -> dict[str, Any]:
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="panjereh-bench-") as tmp:
        run = Run(args, Path(tmp))
        result: dict[str, Any] = {
            "benchmark": "exchange",
            "started_at": started.strftime("%Y-%m-%d %H:%M UTC"),
            "commit": _commit(),
            "machine": machine(),
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        }
        result["settings"]["duration_s"] = args.duration
        result["settings"]["open_duration_s"] = args.open_duration
        with run.stub():
            run.build_database()
            assert run.registry is not None
            result.update(run.baseline())
            result["forwarder"] = run.forwarder()
            result["exchange"] = run.exchange()
        result["conditions"] = conditions(run.database, run.env(0))
        result["conditions"]["signed_requests"] = run.signed_mode
        result["mix"] = {
            "services_registered": len(run.registry.document.services),
            "zipf_services": len(run.registry.services),
            "zipf_exponent": run.mix.zipf_s,
            "subject_population": run.mix.subjects,
            "exchange_pool": _stats(run.pools["exchange"]),
        }
    result["validity"] = report.validity(result)
    result["targets"] = report.targets(result)
    result["valid"] = all(item["ok"] for item in result["validity"])
    result["elapsed_s"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    return result


def _stats(stats: PoolStats) -> dict[str, Any]:
    shares = {k: round(v / stats.requests, 4) for k, v in sorted(stats.kinds.items())}
    found = asdict(stats)
    found["kinds"] = dict(sorted(stats.kinds.items()))
    found["shares"] = shares
    return found


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    missing = missing_tools()
    if missing:
        print(f"exchange benchmark skipped: {', '.join(missing)} not installed "
              "(apt-get install wrk nginx-light util-linux)")  # fmt: skip
        return
    if (os.cpu_count() or 1) < 2:
        print("exchange benchmark skipped: it needs two cores (server on 0, load on 1)")
        return
    os.sched_setaffinity(0, {LOAD_CORE})  # this process mostly waits; keep it off core 0
    result = measure(args)
    text = report.markdown(result)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "exchange.json").write_bytes(
            orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"
        )
        (RESULTS / "exchange.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
