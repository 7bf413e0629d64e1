"""The demo's agencies and systems, and who serves or asks on each agency's behalf."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from panjereh.demo.government_data import AGENCIES, BOTH, AgencyRow, SystemRow
from panjereh.registry.model import AgencyKind, Status, SystemRole

FALLBACK_SYSTEM = "inquiries"


@dataclass(frozen=True, slots=True)
class Directory:
    """Agency rows by code (table order), with the system that provides or consumes for each."""

    agencies: dict[str, AgencyRow]

    @classmethod
    def including(cls, codes: Iterable[str]) -> Directory:
        """The curated agencies plus a plain stand-in for any other code the simulator uses.

        The simulator's catalogue grows independently; a stand-in keeps the demo building
        while a test asks for a proper row in government_data.AGENCIES.
        """
        rows = {row.code: row for row in AGENCIES}
        prefixes = {row.legal_prefix for row in AGENCIES}
        for code in codes:
            if code not in rows:
                rows[code] = _stand_in(code, prefixes)
                prefixes.add(rows[code].legal_prefix)
        return cls(rows)

    def system_refs(self) -> dict[str, SystemRow]:
        return {
            f"{row.code}/{system.code}": system
            for row in self.agencies.values()
            for system in row.systems
        }

    def provider(self, agency: str, system: str | None = None) -> str:
        """``agency/system`` serving the agency's inquiries: the named one, else the first
        active provider."""
        row = self.agencies[agency]
        if system is None:
            system = next(
                s.code
                for s in row.systems
                if SystemRole.PROVIDER in s.roles and s.status is Status.ACTIVE
            )
        return f"{agency}/{system}"

    def consumer(self, agency: str) -> str | None:
        row = self.agencies.get(agency)
        if row is None:
            return None
        for system in row.systems:
            if SystemRole.CONSUMER in system.roles and system.status is Status.ACTIVE:
                return f"{agency}/{system.code}"
        return None


def _stand_in(code: str, taken: set[str]) -> AgencyRow:
    number = int.from_bytes(hashlib.sha256(code.encode()).digest()[:8], "big") % 10**8
    prefix = f"19{number:08d}"
    while prefix in taken:
        prefix = f"19{(int(prefix[2:]) + 1) % 10**8:08d}"
    return AgencyRow(
        code=code,
        legal_prefix=prefix,
        name_fa=f"دستگاه اجرایی {code}",
        name_en=code.replace("-", " ").title(),
        kind=AgencyKind.OTHER,
        parent=None,
        category="other",
        purposes=(),
        systems=(SystemRow(FALLBACK_SYSTEM, "Inquiry system", BOTH),),
    )
