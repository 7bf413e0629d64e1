"""Figures of a registry document, as docs/demo-government.md shows them.

``python -m panjereh.demo.figures`` builds the demo, prints how long that took and the
Markdown tables; the delivery table between the markers in the doc must match this output
(a test checks it).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass

from panjereh.interchange.registry_document import RegistryDocument
from panjereh.registry.model import Delivery, GrantStatus, ServiceStatus

DELIVERY_START = "<!-- delivery-table:start -->"
DELIVERY_END = "<!-- delivery-table:end -->"


@dataclass(frozen=True, slots=True)
class AgencyDelivery:
    agency: str
    name_en: str
    total: int
    electronic: int  # electronic only, smart not included
    smart: int

    @property
    def digital_share(self) -> float:
        """Electronic or smart: what the oversight calls delivered electronically."""
        return (self.electronic + self.smart) / self.total if self.total else 0.0

    @property
    def smart_share(self) -> float:
        return self.smart / self.total if self.total else 0.0


def delivery_by_agency(doc: RegistryDocument) -> list[AgencyDelivery]:
    counts = Counter((c.agency, c.delivery) for c in doc.citizen_services)
    totals = Counter(c.agency for c in doc.citizen_services)
    return [
        AgencyDelivery(
            agency=a.code,
            name_en=a.name_en,
            total=totals[a.code],
            electronic=counts[(a.code, Delivery.ELECTRONIC)],
            smart=counts[(a.code, Delivery.SMART)],
        )
        for a in doc.agencies
        if totals[a.code]
    ]


def overall(doc: RegistryDocument) -> AgencyDelivery:
    counts = Counter(c.delivery for c in doc.citizen_services)
    return AgencyDelivery(
        "all",
        "All agencies",
        len(doc.citizen_services),
        counts[Delivery.ELECTRONIC],
        counts[Delivery.SMART],
    )


def totals_markdown(doc: RegistryDocument) -> str:
    services = Counter(s.status for s in doc.services)
    grants = Counter(g.status for g in doc.grants)
    rows = [
        ("purposes", len(doc.purposes)),
        ("agencies", len(doc.agencies)),
        ("systems", len(doc.systems)),
        ("inquiry services", len(doc.services)),
        *((f"… {status.value}", services[status]) for status in ServiceStatus),
        ("grants", len(doc.grants)),
        *((f"… {status.value}", grants[status]) for status in GrantStatus if grants[status]),
        ("… confidential", sum(g.confidential for g in doc.grants)),
        ("… with a projection", sum(g.projection is not None for g in doc.grants)),
        ("citizen services", len(doc.citizen_services)),
    ]
    return "\n".join(["| figure | count |", "|---|---:|", *(f"| {k} | {v:,} |" for k, v in rows)])


def delivery_markdown(doc: RegistryDocument) -> str:
    lines = [
        "| agency | citizen services | electronic | smart | electronic or smart | smart share |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in [*delivery_by_agency(doc), overall(doc)]:
        lines.append(
            f"| {row.name_en} (`{row.agency}`) | {row.total} | {row.electronic} | {row.smart} "
            f"| {row.digital_share:.0%} | {row.smart_share:.0%} |"
        )
    return "\n".join(lines)


def main() -> None:
    from panjereh.demo.government import build_government

    started = time.perf_counter()
    doc = build_government("http://127.0.0.1:8000")
    elapsed = time.perf_counter() - started
    print(f"built in {elapsed * 1000:.0f} ms", file=sys.stderr)
    print(totals_markdown(doc), end="\n\n")
    print(DELIVERY_START, delivery_markdown(doc), DELIVERY_END, sep="\n")


if __name__ == "__main__":
    main()
