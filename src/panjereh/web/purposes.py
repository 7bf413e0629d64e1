"""The registry's purposes by code, as the audit views name declared purposes: read from the
database once per registry version (the snapshot the exchange reads holds none)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from panjereh.storage.citizen_repo import purpose_names
from panjereh.web.runtime import Runtime


class RegisteredPurposes:
    """Purpose code -> (Persian name, English name), cached per registry version."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._cached: tuple[int, Mapping[str, tuple[str, str]]] | None = None
        self._loading = asyncio.Lock()

    async def current(self) -> Mapping[str, tuple[str, str]]:
        version = self.runtime.registry.current.version
        if self._cached is not None and self._cached[0] == version:
            return self._cached[1]
        async with self._loading:
            if self._cached is None or self._cached[0] != version:
                async with self.runtime.engine.connect() as conn:
                    self._cached = (version, await purpose_names(conn))
            return self._cached[1]
