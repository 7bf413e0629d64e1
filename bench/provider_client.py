"""The provider client alone: aiohttp against the exchange's lean HTTP/1.1 client.

Both POST the same small JSON body with the headers the exchange sends (signature included) to
the nginx stub (bench/loadgen/stub.py) on core 1, from one process pinned to core 0, with 64
calls in flight; the figure is CPU per call of the calling process (docs/adr/0005).  Needs nginx
and two cores; results in bench/results/provider_client.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadgen import procs
from bench.loadgen.stub import nginx_binary, nginx_config
from panjereh.exchange import http1

RESULTS = Path(__file__).parent / "results" / "provider_client.json"
CALLS, IN_FLIGHT, MAX_ANSWER = 30_000, 64, 4 * 1024 * 1024
BODY = b'{"national_code":"0012345679","purpose":"benefit-eligibility"}'
HEADERS = {
    "content-type": "application/json",
    "content-digest": "sha-256=:" + "A" * 43 + "=:",
    "x-exchange-id": "0190f3c2-1111-7000-8000-000000000000",
    "x-consumer-system": "social-security/benefits",
    "x-purpose": "benefit-eligibility",
    "signature-input": 'sig1=("@method" "@authority" "@path" "content-digest" '
    '"x-exchange-id" "x-consumer-system" "x-purpose");created=1700000000;'
    'keyid="exchange-2026-12-02";alg="ed25519"',
    "signature": "sig1=:" + "B" * 86 + "==:",
}


async def _measure(call: Callable[[], Awaitable[object]]) -> dict[str, float]:
    for _ in range(500):  # connections open, caches warm
        await call()
    left = iter(range(CALLS))

    async def worker() -> None:
        for _ in left:
            await call()

    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"calls_per_s": round(CALLS / wall), "cpu_us_per_call": round(cpu / CALLS * 1e6, 1)}


async def with_aiohttp(url: str) -> dict[str, float]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout()) as s:

        async def call() -> object:
            async with asyncio.timeout(5):
                async with s.post(url, data=BODY, headers=HEADERS, allow_redirects=False) as r:
                    return await r.content.read(MAX_ANSWER + 1)

        return await _measure(call)


async def with_http1(url: str) -> dict[str, float]:
    client = http1.Http1Client(max_response_bytes=MAX_ANSWER)
    where = http1.endpoint(url)

    async def call() -> object:
        return await client.post(where, http1.request_bytes(where, HEADERS.items(), BODY), 5)

    try:
        return await _measure(call)
    finally:
        await client.close()


def main() -> dict[str, dict[str, float]]:
    nginx = nginx_binary()
    if nginx is None or (os.cpu_count() or 1) < 2:
        print("skipped: needs nginx and two cores")
        return {}
    folder = Path(tempfile.mkdtemp(prefix="panjereh-client-bench-"))
    port = procs.free_port()
    config = nginx_config(folder, port)
    stub = subprocess.Popen(["taskset", "-c", "1", nginx, "-c", str(config), "-p", str(folder)])
    try:
        time.sleep(0.5)
        os.sched_setaffinity(0, {0})
        url = f"http://127.0.0.1:{port}/fwd/person"
        results = {
            "aiohttp": asyncio.run(with_aiohttp(url)),
            "http1": asyncio.run(with_http1(url)),
        }
    finally:
        stub.terminate()
        stub.wait(10)
    report = {
        "unit": f"{CALLS} POSTs, {IN_FLIGHT} in flight, caller pinned to core 0, nginx on core 1",
        "python": platform.python_version(),
        "aiohttp_version": aiohttp.__version__,
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return results


if __name__ == "__main__":
    for name, figures in main().items():
        print(f"{name:10} {figures}")
