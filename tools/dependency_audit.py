"""Vulnerability audit of the locked dependencies (``make audit``, part of ``make test``).

Runs pip-audit over ``requirements/test.txt`` (the locked set, every file hashed; the runtime
lock is a subset of it) and judges its JSON answer:

- a published vulnerability in a locked release fails, unless ``requirements/
  audit-exceptions.toml`` lists it with a reason and an expiry date that has not passed;
- an exception past its expiry fails (look again: upgrade, or renew it with a new reason);
- an exception whose vulnerability is no longer reported is named, so it can be removed;
- when the vulnerability service answered for no dependency at all (no network, or a registry
  mirror that does not serve PyPI's per-release JSON), the audit did not happen: it says so in a
  banner and passes, unless ``PANJEREH_DEPENDENCY_AUDIT=required``, where it fails.

``PANJEREH_DEPENDENCY_AUDIT=skip`` skips it with the same banner (an offline machine).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "test.txt"
EXCEPTIONS = ROOT / "requirements" / "audit-exceptions.toml"


class BadExceptions(Exception):
    """The exceptions file cannot be used as written."""


class BadReport(Exception):
    """pip-audit's answer is not the report it documents."""


class Unreachable(Exception):
    """pip-audit could not reach its vulnerability service at all (no network, a proxy)."""


_NETWORK_FAILURE = re.compile(
    r"ConnectionError|ProxyError|MaxRetryError|NameResolutionError|ConnectTimeout|ReadTimeout"
    r"|Max retries exceeded|Temporary failure in name resolution"
)


def read_report(stdout: str, stderr: str) -> dict[str, object]:
    """pip-audit's JSON report; `Unreachable` when it failed for want of a network, and
    `BadReport` (with its last line, not the traceback) when it failed otherwise."""
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        if _NETWORK_FAILURE.search(stderr):
            raise Unreachable(stderr.strip().splitlines()[-1][:300]) from None
        last = stderr.strip().splitlines()[-1:] or ["(nothing on stderr)"]
        raise BadReport(f"pip-audit gave no report: {last[0][:300]}") from None
    if not isinstance(report, dict):
        raise BadReport("pip-audit's report is not a JSON object")
    return report


@dataclass(frozen=True, slots=True)
class Accepted:
    """A known finding the team decided to live with until ``expires``."""

    vulnerability: str
    package: str
    reason: str
    expires: dt.date


@dataclass(slots=True)
class Verdict:
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    audited: int = 0
    skipped: int = 0

    @property
    def passed(self) -> bool:
        return not self.failures


def load_exceptions(text: str) -> list[Accepted]:
    """The ``[[exception]]`` tables of the exceptions file; every field is required."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BadExceptions(f"not valid TOML: {error}") from None
    entries = document.get("exception", [])
    if not isinstance(entries, list):
        raise BadExceptions("`exception` must be an array of tables ([[exception]])")
    accepted: list[Accepted] = []
    for number, entry in enumerate(entries, start=1):
        missing = [k for k in ("id", "package", "reason", "expires") if not entry.get(k)]
        if missing:
            raise BadExceptions(f"exception {number} lacks {', '.join(missing)}")
        expires = entry["expires"]
        if not isinstance(expires, dt.date) or isinstance(expires, dt.datetime):
            raise BadExceptions(f"exception {number}: expires must be a date (2027-03-01)")
        accepted.append(
            Accepted(
                vulnerability=str(entry["id"]),
                package=str(entry["package"]).lower(),
                reason=str(entry["reason"]),
                expires=expires,
            )
        )
    return accepted


def judge(report: dict[str, object], accepted: Sequence[Accepted], today: dt.date) -> Verdict:
    """What pip-audit's JSON report means under the accepted exceptions."""
    verdict = Verdict()
    live = {(a.package, a.vulnerability): a for a in accepted if a.expires >= today}
    verdict.failures.extend(
        f"exception for {a.vulnerability} in {a.package} expired on {a.expires}: "
        "upgrade, or renew it with a new reason"
        for a in accepted
        if a.expires < today
    )
    dependencies = report.get("dependencies", [])
    if not isinstance(dependencies, list):
        raise BadReport("pip-audit's report has no list of dependencies")
    seen: set[tuple[str, str]] = set()
    for dependency in dependencies:
        if "skip_reason" in dependency:
            verdict.skipped += 1
        else:
            verdict.audited += 1
            _judge_one(dependency, live, seen, verdict)
    if verdict.audited == 0 and verdict.skipped:
        verdict.warnings.append(
            f"the vulnerability service answered for none of the {verdict.skipped} locked "
            "dependencies (no network, or a package-registry mirror without PyPI's per-release "
            "JSON): NOTHING WAS AUDITED"
        )
    elif verdict.skipped:
        verdict.warnings.append(f"{verdict.skipped} dependencies could not be audited")
    if verdict.audited:
        verdict.notes.extend(
            f"exception for {a.vulnerability} in {a.package} is no longer needed: remove it"
            for key, a in live.items()
            if key not in seen
        )
    return verdict


def _judge_one(
    dependency: dict[str, object],
    live: dict[tuple[str, str], Accepted],
    seen: set[tuple[str, str]],
    verdict: Verdict,
) -> None:
    name = str(dependency["name"]).lower()
    version = str(dependency.get("version", ""))
    vulns = dependency.get("vulns", [])
    if not isinstance(vulns, list):
        raise BadReport(f"pip-audit's report has no list of vulnerabilities for {name}")
    for vuln in vulns:
        ids = {vuln["id"], *vuln.get("aliases", [])}
        hit = next((live[(name, i)] for i in ids if (name, i) in live), None)
        if hit is None:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed release yet"
            verdict.failures.append(f"{vuln['id']} in {name} {version} (fixed in: {fixes})")
        else:
            seen.add((name, hit.vulnerability))
            verdict.notes.append(
                f"accepted until {hit.expires}: {hit.vulnerability} in {name} {version} "
                f"({hit.reason})"
            )


def run_pip_audit(lock: Path) -> dict[str, object]:
    command = [
        sys.executable, "-m", "pip_audit",
        "--requirement", str(lock), "--require-hashes", "--disable-pip",
        "--format", "json", "--progress-spinner", "off",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return read_report(done.stdout, done.stderr)


def banner(lines: Sequence[str]) -> str:
    rule = "!" * 78
    return "\n".join([rule, *(f"!! {line}" for line in lines), rule])


def main() -> int:
    mode = os.environ.get("PANJEREH_DEPENDENCY_AUDIT", "")
    if mode == "skip":
        print(banner(["dependency audit SKIPPED (PANJEREH_DEPENDENCY_AUDIT=skip)"]))
        return 0
    try:
        accepted = load_exceptions(EXCEPTIONS.read_text(encoding="utf-8"))
        report = run_pip_audit(LOCK)
    except (BadExceptions, BadReport, OSError) as error:
        print(f"dependency audit: {error}", file=sys.stderr)
        return 2
    except Unreachable as error:
        print(
            banner(
                [
                    f"dependency audit: the vulnerability service is unreachable ({error}):",
                    "NOTHING WAS AUDITED",
                ]
            ),
            file=sys.stderr,
        )
        return 1 if mode == "required" else 0
    try:
        verdict = judge(report, accepted, dt.datetime.now(dt.UTC).date())
    except BadReport as error:
        print(f"dependency audit: {error}", file=sys.stderr)
        return 2
    for note in verdict.notes:
        print(f"dependency audit: {note}")
    if verdict.warnings:
        print(banner([f"dependency audit: {w}" for w in verdict.warnings]), file=sys.stderr)
        if verdict.audited == 0 and mode == "required":
            return 1
    for failure in verdict.failures:
        print(f"dependency audit FAILED: {failure}", file=sys.stderr)
    if verdict.passed and verdict.audited:
        print(
            f"dependency audit: {verdict.audited} locked dependencies audited, "
            f"{verdict.skipped} not, no unaccepted vulnerability"
        )
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
