"""A fixed-rate (open-loop) load generator: no coordinated omission.

Request ``i`` is due at ``start + i / rate`` whatever happened to the earlier ones; its latency
is measured from that due time (with ``perf_counter``: uvloop's clock has millisecond steps),
so a slow answer (or a generator that falls behind) shows in the figures instead of quietly
lowering the offered load.  It sends pre-generated raw requests (bench/loadgen/pool.py) over
keep-alive connections, opening more when all are busy.  Debian has neither wrk2 nor vegeta,
hence this.

``python -m bench.loadgen.openloop --port P --pool FILE --rate 1000 --duration 30`` prints one
JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def read_pool(path: Path) -> list[bytes]:
    return [raw for raw in path.read_bytes().split(b"\0") if raw]


def percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _send(connection: Connection, raw: bytes) -> int:
    """One request on a keep-alive connection; the answer's status."""
    reader, writer = connection
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def send_one(port: int, raw: bytes, timeout: float = 10.0) -> int:
    """Send one request on a fresh connection (a probe); the answer's status."""
    async with asyncio.timeout(timeout):
        connection = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await _send(connection, raw)
        finally:
            connection[1].close()


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds from the due time
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    opened: int = 0
    resent: int = 0  # sent again on a new connection: the server had closed an idle one
    max_lag: float = 0.0  # how late a request left after its due time, at worst


class OpenLoop:
    def __init__(self, host: str, port: int, *, max_connections: int, timeout: float) -> None:
        self._host, self._port = host, port
        self._limit = max_connections
        self._timeout = timeout
        self._idle: list[Connection] = []
        self._free = asyncio.Semaphore(max_connections)
        self.outcome = Outcome()

    async def _open(self) -> Connection:
        self.outcome.opened += 1
        return await asyncio.open_connection(self._host, self._port)

    async def _exchange(self, raw: bytes) -> tuple[Connection, int]:
        """Send on the most recently used idle connection (or a new one); if the server had
        closed it (uvicorn ends idle keep-alive connections after 5 s) before any answer
        came, send once more on a new connection."""
        if self._idle:
            reused = self._idle.pop()
            try:
                return reused, await _send(reused, raw)
            except asyncio.IncompleteReadError as exc:
                reused[1].close()
                if exc.partial:
                    raise
            except ConnectionError:
                reused[1].close()
            self.outcome.resent += 1
        connection = await self._open()
        return connection, await _send(connection, raw)

    async def _one(self, raw: bytes, due: float) -> None:
        connection: Connection | None = None
        try:
            async with asyncio.timeout(self._timeout), self._free:
                connection, status = await self._exchange(raw)
                self._idle.append(connection)
                connection = None
        except TimeoutError:
            self.outcome.errors["timeout"] += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            self.outcome.errors["connection"] += 1
        else:
            self.outcome.latencies.append(time.perf_counter() - due)
            self.outcome.statuses[status] += 1
        finally:
            if connection is not None:
                connection[1].close()

    async def run(self, pool: list[bytes], rate: float, duration: float) -> float:
        """Send ``rate × duration`` requests on schedule; the seconds it took until the last
        answer."""
        loop = asyncio.get_running_loop()
        total = int(rate * duration)
        start = time.perf_counter() + 0.05
        tasks: list[asyncio.Task[None]] = []
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.outcome.max_lag = max(self.outcome.max_lag, -delay)
            tasks.append(loop.create_task(self._one(pool[i % len(pool)], due)))
        await asyncio.wait(tasks, timeout=self._timeout + 5)
        elapsed = time.perf_counter() - start
        for _, writer in self._idle:
            writer.close()
        return elapsed


def summary(outcome: Outcome, *, rate: float, sent: int, elapsed: float, cpu: float) -> Any:
    ordered = sorted(outcome.latencies)
    ms = {
        name: round(percentile(ordered, share) * 1000, 3)
        for name, share in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))
    }
    ms["p999"] = round(percentile(ordered, 0.999) * 1000, 3)
    ms["max"] = round((ordered[-1] if ordered else 0.0) * 1000, 3)
    return {
        "offered_rate": rate,
        "sent": sent,
        "answered": len(ordered),
        "achieved_rate": round(len(ordered) / elapsed, 1) if elapsed else 0.0,
        "elapsed_s": round(elapsed, 3),
        "latency_ms": ms,
        "statuses": {str(k): v for k, v in sorted(outcome.statuses.items())},
        "errors": dict(outcome.errors),
        "connections_opened": outcome.opened,
        "resent_after_idle_close": outcome.resent,
        "max_send_lag_ms": round(outcome.max_lag * 1000, 3),
        "cpu_percent": round(100 * cpu / elapsed, 1) if elapsed else 0.0,
    }


async def _main(args: argparse.Namespace) -> Any:
    pool = read_pool(args.pool)
    generator = OpenLoop(
        "127.0.0.1", args.port, max_connections=args.connections, timeout=args.timeout
    )
    gc.collect()
    gc.freeze()
    gc.disable()  # a full collection mid-run would show up as server latency
    before = resource.getrusage(resource.RUSAGE_SELF)
    elapsed = await generator.run(pool, args.rate, args.duration)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sent = int(args.rate * args.duration)
    return summary(generator.outcome, rate=args.rate, sent=sent, elapsed=elapsed, cpu=cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pool", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    started = time.monotonic()
    result = asyncio.run(_main(args))
    result["wall_s"] = round(time.monotonic() - started, 3)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
