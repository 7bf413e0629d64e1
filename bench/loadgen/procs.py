"""Processes of a benchmark run: pinned start, readiness, CPU accounting, graceful stop, wrk."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says what failed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a running process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def core_times() -> dict[int, tuple[float, float]]:
    """Per core: (busy, total) seconds since boot, from /proc/stat."""
    found: dict[int, tuple[float, float]] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        ticks = [int(v) for v in values[:8]]
        idle = ticks[3] + ticks[4]  # idle + iowait
        found[int(name[3:])] = ((sum(ticks) - idle) / TICKS, sum(ticks) / TICKS)
    return found


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def core_busy(seconds: float) -> dict[int, float]:
    """Busy percent of each core over the next ``seconds``."""
    before = core_times()
    time.sleep(seconds)
    after = core_times()
    return {
        n: 100 * (after[n][0] - before[n][0]) / max(after[n][1] - before[n][1], 1e-9) for n in after
    }


def wait_quiet(threshold: float, max_wait: float) -> dict[str, Any]:
    """Wait (at most ``max_wait`` s) until every core is below ``threshold`` percent busy for a
    second: other work on the machine (test suites, other benchmarks) distorts the figures."""
    started = time.monotonic()
    while True:
        busy = core_busy(1.0)
        waited = time.monotonic() - started
        if max(busy.values()) < threshold or waited >= max_wait:
            return {
                "waited_s": round(waited, 1),
                "quiet": max(busy.values()) < threshold,
                "core_busy": {f"core{n}": round(b, 1) for n, b in sorted(busy.items())},
            }


@dataclass
class CpuWindow:
    """CPU used by some processes, and by each core, between `start` and `stop`."""

    pids: Mapping[str, int]
    wall: float = 0.0
    _cpu: dict[str, float] | None = None
    _cores: dict[int, tuple[float, float]] | None = None
    _children: float = 0.0
    _self: float = 0.0
    result: dict[str, Any] | None = None

    def start(self) -> None:
        self.wall = time.monotonic()
        self._cpu = {name: process_cpu(pid) for name, pid in self.pids.items()}
        self._cores = core_times()
        self._children = children_cpu()
        self._self = self_cpu()

    def stop(self, cores_of: Mapping[str, int]) -> dict[str, Any]:
        """Percent of one core per process (``children``: reaped children such as wrk;
        ``harness``: this process), busy percent per core, and ``foreign``: what other
        processes used of each core (``cores_of`` says which core each of ours runs on)."""
        assert self._cpu is not None
        assert self._cores is not None
        wall = time.monotonic() - self.wall
        cores = core_times()
        processes = {
            name: round(100 * (process_cpu(pid) - self._cpu[name]) / wall, 1)
            for name, pid in self.pids.items()
        }
        processes["children"] = round(100 * (children_cpu() - self._children) / wall, 1)
        processes["harness"] = round(100 * (self_cpu() - self._self) / wall, 1)
        busy = {
            f"core{n}": round(
                100
                * (cores[n][0] - self._cores[n][0])
                / max(cores[n][1] - self._cores[n][1], 1e-9),
                1,
            )
            for n in sorted(cores)
        }
        ours: dict[str, float] = dict.fromkeys(busy, 0.0)
        for name, core in cores_of.items():
            ours[f"core{core}"] += processes.get(name, 0.0)
        foreign = {core: round(max(0.0, value - ours[core]), 1) for core, value in busy.items()}
        self.result = {
            "wall_s": round(wall, 2),
            "process_cpu_percent": processes,
            "core_busy": busy,
            "foreign_cpu_percent": foreign,
        }
        return self.result


def start_pinned(
    core: int, command: Sequence[str], *, env: Mapping[str, str] | None = None, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    """Start ``command`` on ``core`` (taskset execs it: the pid is the command's)."""
    return subprocess.Popen(
        ["taskset", "-c", str(core), *command],
        env=dict(env) if env is not None else None,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{url}: the server exited with status {process.returncode}")
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(url, timeout=2) as answer,  # noqa: S310 - loopback
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise BenchError(f"{url} was not ready within {timeout:g} s")


def stop(process: subprocess.Popen[bytes], *, timeout: float = 60.0) -> int:
    """SIGINT (uvicorn's graceful shutdown: lifespan runs, the audit writer drains), then
    SIGKILL if it does not end in time.  The exit status (negative: killed by a signal)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return process.returncode


def run_wrk(
    *,
    url: str,
    script: Path,
    pool: Path,
    core: int,
    duration: float,
    connections: int,
    threads: int = 1,
) -> dict[str, Any]:
    """wrk on ``core`` with the pool script; its JSON summary plus its own CPU share."""
    before = children_cpu()
    started = time.monotonic()
    completed = subprocess.run(
        [
            "taskset", "-c", str(core), "wrk", f"-t{threads}", f"-c{connections}",
            f"-d{duration:g}s", "--timeout", "10s", "-s", str(script), url,
            "--", str(pool), str(threads),
        ],
        capture_output=True,
        timeout=duration + 60,
        check=False,
    )  # fmt: skip
    wall = time.monotonic() - started
    lines = [
        line for line in completed.stdout.decode().splitlines() if line.startswith("WRK-JSON ")
    ]
    if completed.returncode != 0 or not lines:
        raise BenchError(f"wrk failed ({completed.returncode}): {completed.stderr.decode()[:500]}")
    result: dict[str, Any] = orjson.loads(lines[-1].removeprefix("WRK-JSON "))
    result["rate"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    result["wrk_cpu_percent"] = round(100 * (children_cpu() - before) / wall, 1)
    return result


def run_open_loop(
    *, port: int, pool: Path, core: int, rate: float, duration: float, python: str
) -> dict[str, Any]:
    """bench/loadgen/openloop.py on ``core``; its JSON summary."""
    completed = subprocess.run(
        [
            "taskset", "-c", str(core), python, "-m", "bench.loadgen.openloop",
            "--port", str(port), "--pool", str(pool), "--rate", f"{rate:g}",
            "--duration", f"{duration:g}",
        ],
        capture_output=True,
        timeout=duration + 90,
        check=False,
        cwd=Path(__file__).parents[2],
    )  # fmt: skip
    if completed.returncode != 0:
        raise BenchError(f"open loop failed: {completed.stderr.decode()[-800:]}")
    result: dict[str, Any] = orjson.loads(completed.stdout.decode().strip().splitlines()[-1])
    return result
