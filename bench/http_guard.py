"""What the HTTP limits (web/http_guard.py) cost per request: uvicorn's httptools protocol
against `GuardedHttpProtocol`, serving the same trivial ASGI app, one process on core 0, wrk
(64 connections, kept alive) on core 1.  The runs alternate, A B A B ..., so drift on a shared
machine falls on both.  Results: bench/results/http_guard.json.

    .venv/bin/python bench/http_guard.py [--runs 5] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "http_guard.json"
PROTOCOLS = {
    "uvicorn-httptools": "httptools",
    "guarded": "panjereh.web.http_guard:GuardedHttpProtocol",
}
SERVER = """
import sys, uvicorn
BODY = b'{"ok":true}'
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"11")]})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, port=int(sys.argv[1]), http=sys.argv[2], log_level="warning",
            access_log=False, lifespan="off")
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def one_run(protocol: str, seconds: int) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-c", SERVER, str(port), protocol],
        env=os.environ | {"PYTHONPATH": str(Path(__file__).parents[1] / "src")},
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(200):
            try:
                urllib.request.urlopen(url, timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        out = subprocess.run(
            ["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{seconds}s", "--latency", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        server.terminate()
        server.wait(timeout=10)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rate, "us_per_request": 1e6 / rate}


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        print("skipped: needs wrk (apt-get install wrk) and taskset")
        return {}
    runs: dict[str, list[float]] = {name: [] for name in PROTOCOLS}
    for _ in range(args.runs):
        for name, protocol in PROTOCOLS.items():
            runs[name].append(one_run(protocol, args.seconds)["rps"])
    summary: dict[str, object] = {}
    for name, rates in runs.items():
        summary[name] = {
            "runs_rps": rates,
            "median_rps": statistics.median(rates),
            "min_rps": min(rates),
            "max_rps": max(rates),
            "median_us_per_request": 1e6 / statistics.median(rates),
        }
        print(
            f"{name:18} median {statistics.median(rates):9,.0f} req/s "
            f"(min {min(rates):,.0f}, max {max(rates):,.0f}; {1e6 / statistics.median(rates):.1f} "
            "µs/request)"
        )
    base = 1e6 / statistics.median(runs["uvicorn-httptools"])
    guarded = 1e6 / statistics.median(runs["guarded"])
    summary["added_us_per_request"] = guarded - base
    print(f"added by the guard: {guarded - base:+.1f} µs per request (medians)")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()
