"""THIRD_PARTY.md names every file the package ships under a static folder."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def listed() -> set[str]:
    text = (ROOT / "THIRD_PARTY.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(src/[^`]+)` \|", text, flags=re.MULTILINE))


def shipped() -> set[str]:
    package = ROOT / "src" / "panjereh"
    return {
        path.relative_to(ROOT).as_posix()
        for static in package.rglob("static")
        if static.is_dir()
        for path in static.rglob("*")
        if path.is_file()
    }


def test_every_static_file_has_its_row_with_a_licence() -> None:
    files = shipped()
    assert files, "no static files found: the test looks in the wrong place"
    assert sorted(files - listed()) == []


def test_no_row_names_a_file_that_is_gone() -> None:
    assert sorted(listed() - shipped()) == []
