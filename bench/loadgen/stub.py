"""The stub providers: nginx answering fixed JSON, so the upstream is never the bottleneck.

A Python simulator at 5,000+ inquiries/s would need the core the load generator runs on; nginx
answers a fixed ~300-byte JSON document in microseconds.  A request whose ``X-Purpose`` is
``bench-provider-fault`` gets a 500 instead (the injected provider errors; the exchange and the
plain forwarder both pass X-Purpose on).  The same stub serves the forwarder and the exchange.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.exchange_registry import FAULT_PURPOSE

ANSWER = (
    '{"subject_found":true,"status":"valid","status_note":"record is valid",'
    '"reference":"4812093377","valid_until":"2027-03-20","issued_on":"2024-03-20",'
    '"holder":{"first_name":"Amir","last_name":"Irvani","birth_date":"2003-07-08"},'
    '"province":"Kordestan","registry_office":"Sanandaj-2","flags":["none"],"revision":7}'
)
FAULT = '{"error":"injected provider failure"}'


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


def nginx_config(folder: Path, port: int) -> Path:
    """Write a self-contained nginx.conf under ``folder`` (logs, pid and temp files there)."""
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    config = folder / "nginx.conf"
    config.write_text(
        f"""daemon off;
master_process off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    server_tokens off;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        default_type application/json;
        if ($http_x_purpose = "{FAULT_PURPOSE}") {{ return 500 '{FAULT}'; }}
        location / {{ return 200 '{ANSWER}'; }}
    }}
}}
""",
        encoding="utf-8",
    )
    return config
