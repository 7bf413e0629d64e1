"""The exchange benchmark's verdicts (validity and targets) and its markdown table."""

from __future__ import annotations

from collections import Counter
from typing import Any

FORWARDER_FLOOR = 5_000  # the run is valid only if the plain forwarder reaches this (req/s)
GENERATOR_CPU_LIMIT = 90.0  # percent of its core
FOREIGN_CPU_LIMIT = 10.0  # percent of a core other processes may use during a measured run
SHARE_TARGET = 0.5  # exchange / forwarder throughput, same run
P99_TARGET_MS = 10.0


def cpu_ms_per_inquiry(run: dict[str, Any]) -> float | None:
    """Server CPU milliseconds per answer: unlike req/s, not skewed by neighbours' load."""
    server = run["cpu"]["process_cpu_percent"].get("server")
    answers = int(run.get("requests", run.get("answered", 0)))
    if server is None or not answers:
        return None
    return round(float(server) / 100 * float(run["cpu"]["wall_s"]) / answers * 1000, 3)


def _check(name: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"check": name, "ok": ok, "detail": detail}


def _unexpected_5xx(statuses: dict[str, int]) -> int:
    """5xx answers other than 502 (provider-error, what the injected provider 500s become)."""
    return sum(n for s, n in statuses.items() if s.startswith("5") and s != "502")


def _measured_runs(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [result[side][kind] for side in ("forwarder", "exchange") for kind in _KINDS]


_KINDS = ("closed_loop", "open_loop")


def _foreign(result: dict[str, Any]) -> dict[str, float]:
    """The most CPU other processes used of each core during any measured run."""
    worst: dict[str, float] = {}
    for run in _measured_runs(result):
        for core, value in run["cpu"]["foreign_cpu_percent"].items():
            worst[core] = max(worst.get(core, 0.0), value)
    return worst


def validity(result: dict[str, Any]) -> list[dict[str, Any]]:
    forwarder = result["forwarder"]["closed_loop"]
    exchange = result["exchange"]["closed_loop"]
    capability = result["generator_capability"]
    wrk_cpu = max(forwarder["wrk_cpu_percent"], exchange["wrk_cpu_percent"])
    wraps = forwarder["wrapped"] + exchange["wrapped"]
    lag_ok = capability["achieved_rate"] >= 0.98 * capability["offered_rate"]
    foreign = _foreign(result)
    return [
        _check(
            "nothing else running: other processes < 10% of each core during the runs",
            max(foreign.values()) < FOREIGN_CPU_LIMIT,
            ", ".join(f"{core} {value:.0f}%" for core, value in sorted(foreign.items())),
        ),
        _check(
            "load generator not the bottleneck (wrk CPU < 90% of its core)",
            wrk_cpu < GENERATOR_CPU_LIMIT,
            f"wrk used at most {wrk_cpu:.0f}% of core 1",
        ),
        _check(
            "plain forwarder reaches >= 5,000/s in the same run",
            forwarder["rate"] >= FORWARDER_FLOOR,
            f"{forwarder['rate']:,.0f}/s",
        ),
        _check(
            "open-loop generator sustains the offered rate on its core",
            lag_ok,
            f"{capability['achieved_rate']:,.0f}/s of {capability['offered_rate']:,.0f}/s "
            f"against the stub, p99 {capability['latency_ms']['p99']} ms, "
            f"CPU {capability['cpu_percent']}%",
        ),
        _check(
            "every request sent was pre-generated and unique (pool never wrapped)",
            wraps == 0,
            f"{wraps} wrap-arounds",
        ),
    ]


def _audit_checks(exchange: dict[str, Any]) -> list[dict[str, Any]]:
    closed, open_ = exchange["closed_loop"], exchange["open_loop"]
    audit = exchange["audit"]
    in_flight = closed["audit_rows"] - closed["requests"]
    return [
        _check(
            "audit records written == requests answered (open loop, exact)",
            open_["audit_rows"] == open_["answered"],
            f"{open_['audit_rows']:,} records for {open_['answered']:,} answers"
            + (f" (the generator gave up on {_gave_up(open_)})" if open_["errors"] else ""),
        ),
        _check(
            "no answer without its audit record (closed loop)",
            0 <= in_flight <= closed["connections"],
            f"{closed['audit_rows']:,} records for {closed['requests']:,} answers read by wrk; "
            f"{in_flight} answered while wrk was closing its {closed['connections']} connections",
        ),
        _check(
            "zero lost audit records (whole run, after graceful stop)",
            audit["rows_after_stop"] == audit["rows_before_stop"] and audit["writer_failures"] == 0,
            f"{audit['rows_after_stop']:,} rows; server exit status {audit['exit_status']}",
        ),
    ]


def _gave_up(run: dict[str, Any]) -> str:
    return ", ".join(f"{n:,} ({kind})" for kind, n in sorted(run["errors"].items()))


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    forwarder = result["forwarder"]["closed_loop"]
    exchange = result["exchange"]
    closed, open_ = exchange["closed_loop"], exchange["open_loop"]
    share = closed["rate"] / forwarder["rate"] if forwarder["rate"] else 0.0
    fwd_ms, exc_ms = cpu_ms_per_inquiry(forwarder), cpu_ms_per_inquiry(closed)
    per_cpu = fwd_ms / exc_ms if fwd_ms and exc_ms else 0.0
    audited = Counter(closed["audit_errors"]) + Counter(open_["audit_errors"])
    seen_503 = closed["statuses"].get("503", 0) + open_["statuses"].get("503", 0)
    overloaded = max(
        seen_503, sum(n for answer, n in audited.items() if answer.endswith(" overloaded"))
    )
    unexpected = _unexpected_5xx(closed["statuses"]) + _unexpected_5xx(open_["statuses"])
    return [
        _check(
            "one exchange worker >= 50% of the plain forwarder (same run)",
            share >= SHARE_TARGET,
            f"{closed['rate']:,.0f}/s vs {forwarder['rate']:,.0f}/s = {share:.0%}; per CPU "
            f"second {per_cpu:.0%} ({exc_ms} vs {fwd_ms} ms of CPU per inquiry)",
        ),
        _check(
            f"p99 <= {P99_TARGET_MS:g} ms at a fixed {open_['offered_rate']:,.0f}/s",
            open_["latency_ms"]["p99"] <= P99_TARGET_MS,
            f"p99 {open_['latency_ms']['p99']} ms",
        ),
        *_audit_checks(exchange),
        _check(
            "no 5xx other than the injected provider errors",
            unexpected == 0,
            f"{unexpected} other 5xx; 502 (provider-error): closed "
            f"{closed['statuses'].get('502', 0):,}, open {open_['statuses'].get('502', 0):,}",
        ),
        _check(
            "no 'overloaded' at the reported throughput",
            overloaded == 0,
            f"{overloaded} overloaded",
        ),
    ]


def _row(name: str, run: dict[str, Any], server_cpu: float | None) -> str:
    if "latency_ms" in run:  # open loop
        rate, ms = run["achieved_rate"], run["latency_ms"]
        p50, p95, p99 = ms["p50"], ms["p95"], ms["p99"]
        generator = run["cpu_percent"]
        non_2xx = sum(n for s, n in run["statuses"].items() if not s.startswith("2"))
        non_2xx += sum(run["errors"].values())
    else:
        rate, us = run["rate"], run["latency_us"]
        p50, p95, p99 = (round(us[k] / 1000, 2) for k in ("p50", "p95", "p99"))
        generator = run["wrk_cpu_percent"]
        non_2xx = sum(n for s, n in run["statuses"].items() if not s.startswith("2"))
    cpu = "" if server_cpu is None else f"{server_cpu:.0f}%"
    per = cpu_ms_per_inquiry(run)
    cost = "" if per is None or server_cpu is None else f"{per}"
    foreign = run["cpu"]["foreign_cpu_percent"]
    others = f"{foreign['core0']:.0f}% / {foreign['core1']:.0f}%"
    return (
        f"| {name} | {rate:,.0f} | {p50} | {p95} | {p99} | {non_2xx:,} | {cpu} | {cost} "
        f"| {generator:.0f}% | {others} |"
    )


def _errors_table(errors: dict[str, int]) -> list[str]:
    lines = ["| answer | count |", "|---|---:|"]
    lines += [f"| {name} | {count:,} |" for name, count in sorted(errors.items())]
    return lines


def markdown(result: dict[str, Any]) -> str:
    fwd, exc = result["forwarder"], result["exchange"]
    settings = result["settings"]
    lines = [
        "# Exchange benchmark",
        "",
        f"{result['started_at']} · {result['machine']['cpu']} × {result['machine']['cores']} · "
        f"Python {result['machine']['python']} · commit {result['commit']}",
        "",
        "**Valid run: "
        + ("yes" if result["valid"] else "no (see the checks: the figures are not comparable)")
        + "**",
        "",
        "Closed loop: wrk, "
        f"{exc['closed_loop']['connections']} connections, {settings['duration_s']:g} s "
        "(latencies of a closed loop hide queueing; see the open loop). Open loop: fixed "
        f"{exc['open_loop']['offered_rate']:,.0f}/s for {settings['open_duration_s']:g} s, "
        "latency from each request's due time.",
        "",
        "| run | inquiries/s | p50 ms | p95 ms | p99 ms | non-2xx | server CPU "
        "| server CPU ms/inquiry | generator CPU | other processes, core 0 / 1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        _row("stub upstream alone (nginx)", result["stub"], None),
        _row("plain forwarder, closed loop", fwd["closed_loop"], fwd["closed_loop"]["server_cpu"]),
        _row("exchange, closed loop", exc["closed_loop"], exc["closed_loop"]["server_cpu"]),
        _row("plain forwarder, open loop", fwd["open_loop"], fwd["open_loop"]["server_cpu"]),
        _row("exchange, open loop", exc["open_loop"], exc["open_loop"]["server_cpu"]),
        "",
        "Exchange answers by type (from its audit records, closed loop):",
        "",
        *_errors_table(exc["closed_loop"]["audit_errors"]),
        "",
        "| check | result | detail |",
        "|---|---|---|",
    ]
    for item in result["validity"] + result["targets"]:
        lines.append(f"| {item['check']} | {'pass' if item['ok'] else 'FAIL'} | {item['detail']} |")
    lines += [
        "",
        f"Open loop, exchange: {exc['open_loop']['sent']:,} sent, "
        f"{exc['open_loop']['answered']:,} answered, client errors {exc['open_loop']['errors']}; "
        f"p99.9 {exc['open_loop']['latency_ms']['p999']} ms, max "
        f"{exc['open_loop']['latency_ms']['max']} ms.",
        "",
        "Settings:",
        "",
    ]
    lines += [f"- {name}: {value}" for name, value in result["conditions"].items()]
    return "\n".join(lines) + "\n"
