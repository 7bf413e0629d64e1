"""docs/demo-government.md shows the delivery table the code produces."""

from __future__ import annotations

from pathlib import Path

from panjereh.demo import build_government
from panjereh.demo.figures import DELIVERY_END, DELIVERY_START, delivery_markdown, overall

DOC = Path(__file__).resolve().parents[3] / "docs" / "demo-government.md"


def test_the_doc_shows_the_delivery_table_the_code_produces() -> None:
    text = DOC.read_text(encoding="utf-8")
    shown = text.split(DELIVERY_START, 1)[1].split(DELIVERY_END, 1)[0].strip()
    expected = delivery_markdown(build_government("http://127.0.0.1:8000"))
    assert shown == expected, "regenerate it: python -m panjereh.demo.figures"


def test_the_overall_row_adds_up_the_agencies() -> None:
    doc = build_government("http://127.0.0.1:8000")
    row = overall(doc)
    assert row.total == len(doc.citizen_services)
    assert 0 < row.smart < row.electronic + row.smart < row.total
