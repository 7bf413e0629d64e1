"""The dependency audit's judgement of pip-audit's report (tools/dependency_audit.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest
from tools.dependency_audit import (
    EXCEPTIONS,
    BadExceptions,
    BadReport,
    Unreachable,
    judge,
    load_exceptions,
    read_report,
)

TODAY = dt.date(2026, 12, 7)

VULN = {"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2026-1"], "fix_versions": ["3.1.7"]}


def report(*dependencies: Mapping[str, object]) -> dict[str, object]:
    return {"dependencies": list(dependencies), "fixes": []}


def test_a_clean_report_passes() -> None:
    verdict = judge(report({"name": "jinja2", "version": "3.1.6", "vulns": []}), [], TODAY)
    assert verdict.passed
    assert (verdict.audited, verdict.skipped) == (1, 0)


def test_a_vulnerability_fails_with_its_fixed_release() -> None:
    verdict = judge(report({"name": "Jinja2", "version": "3.1.6", "vulns": [VULN]}), [], TODAY)
    assert not verdict.passed
    assert verdict.failures == ["GHSA-aaaa-bbbb-cccc in jinja2 3.1.6 (fixed in: 3.1.7)"]


def accepted(expires: str, vulnerability: str = "CVE-2026-1") -> str:
    return (
        f'[[exception]]\nid = "{vulnerability}"\npackage = "jinja2"\n'
        f'reason = "not reachable"\nexpires = {expires}\n'
    )


def test_an_accepted_vulnerability_passes_by_any_alias_until_it_expires() -> None:
    dependency = {"name": "jinja2", "version": "3.1.6", "vulns": [VULN]}
    live = judge(report(dependency), load_exceptions(accepted("2026-12-31")), TODAY)
    assert live.passed
    assert live.notes == ["accepted until 2026-12-31: CVE-2026-1 in jinja2 3.1.6 (not reachable)"]
    gone = judge(report(dependency), load_exceptions(accepted("2026-12-06")), TODAY)
    assert not gone.passed
    assert any("expired on 2026-12-06" in f for f in gone.failures)


def test_an_exception_no_longer_needed_is_named() -> None:
    clean = report({"name": "jinja2", "version": "3.1.7", "vulns": []})
    verdict = judge(clean, load_exceptions(accepted("2027-01-01")), TODAY)
    assert verdict.passed
    assert verdict.notes == ["exception for CVE-2026-1 in jinja2 is no longer needed: remove it"]


def test_nothing_audited_is_a_loud_warning_not_a_pass_in_silence() -> None:
    skipped = {"name": "jinja2", "skip_reason": "Dependency not found on PyPI"}
    verdict = judge(report(skipped, skipped), [], TODAY)
    assert verdict.passed
    assert verdict.audited == 0
    assert "NOTHING WAS AUDITED" in verdict.warnings[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[exception]]\nid = 'X'\n", "lacks package, reason, expires"),
        (accepted("'soon'"), "expires must be a date"),
        ("exception = 3", "array of tables"),
        ("[[exception]\n", "not valid TOML"),
    ],
)
def test_a_bad_exceptions_file_is_refused_with_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(BadExceptions, match=message):
        load_exceptions(text)


def test_the_repository_exceptions_file_loads_and_none_has_expired() -> None:
    for entry in load_exceptions(EXCEPTIONS.read_text(encoding="utf-8")):
        assert entry.expires >= dt.datetime.now(dt.UTC).date(), entry


def test_no_network_is_unreachable_and_any_other_crash_a_bad_report() -> None:
    offline = "Traceback ...\nrequests.exceptions.ConnectionError: Max retries exceeded"
    with pytest.raises(Unreachable, match="ConnectionError"):
        read_report("", offline)
    with pytest.raises(BadReport, match="KeyError: 'vulns'"):
        read_report("", "Traceback (most recent call last):\nKeyError: 'vulns'")
    assert read_report('{"dependencies": []}', "") == {"dependencies": []}
