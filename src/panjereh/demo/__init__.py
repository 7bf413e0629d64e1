"""The demonstration government: agencies, services, grants and citizen services as one
`RegistryDocument` (docs/demo-government.md)."""

from __future__ import annotations

from panjereh.demo.government import DEMO_CONSUMERS, build_government

__all__ = ["DEMO_CONSUMERS", "build_government"]
