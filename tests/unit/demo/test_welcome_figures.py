"""The service figures a newcomer reads: the README, `panjereh demo` and the portal agree
(issue 26, "The numbers agree")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from panjereh.cli import _print_welcome
from panjereh.config import load_settings
from panjereh.demo import build_government
from panjereh.demo.seed import DemoCredentials, DemoSeed
from panjereh.registry.model import CALLABLE_STATUSES
from panjereh.storage.document_repo import ImportResult

ROOT = Path(__file__).resolve().parents[3]


def _figures() -> tuple[int, int]:
    doc = build_government("http://127.0.0.1:8000")
    open_ = sum(s.status in CALLABLE_STATUSES for s in doc.services)
    return open_, len(doc.services)


def _phrase(open_: int, total: int) -> str:
    return f"{open_:,} inquiry services open to inquiries ({total:,} registered"


def test_the_readme_quotes_the_figure_the_portal_shows_and_says_what_it_counts() -> None:
    open_, total = _figures()
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert _phrase(open_, total) in readme
    assert "1,299 inquiry services," not in readme  # the old, unexplained figure


def test_the_demo_prints_the_same_figures_in_the_same_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    open_, total = _figures()
    settings = load_settings(data_dir=tmp_path)
    credentials = [DemoCredentials("social-security/benefits", "pnj_x", ("a.b.v1",))]
    _print_welcome(settings, DemoSeed(credentials, [], ImportResult(), total, open_))
    printed = " ".join(capsys.readouterr().out.split())
    assert _phrase(open_, total) in printed
    assert not re.search(r"\d{4}", printed.split("Portal")[0])  # every count grouped: 1,299
