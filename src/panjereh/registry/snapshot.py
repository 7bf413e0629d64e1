"""The immutable in-memory picture of the registry the exchange reads on every inquiry.

Built once per registry version by storage; the hot path only does dictionary look-ups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from panjereh.registry.model import Agency, ApiKey, Grant, Service, Status, System


@dataclass(frozen=True, slots=True)
class RegistrySnapshot:
    version: int
    agencies: Mapping[int, Agency]
    systems: Mapping[int, System]
    services: Mapping[str, Service]
    keys_by_hash: Mapping[str, ApiKey]
    _grants: frozenset[tuple[int, str]] = field(repr=False)

    @classmethod
    def build(
        cls,
        *,
        version: int,
        agencies: Iterable[Agency],
        systems: Iterable[System],
        services: Iterable[Service],
        keys: Iterable[ApiKey],
        grants: Iterable[Grant],
    ) -> RegistrySnapshot:
        return cls(
            version=version,
            agencies={a.id: a for a in agencies},
            systems={s.id: s for s in systems},
            services={s.id: s for s in services},
            keys_by_hash={k.key_hash: k for k in keys},
            _grants=frozenset(
                (g.consumer_system_id, g.service_id) for g in grants if g.status is Status.ACTIVE
            ),
        )

    @classmethod
    def empty(cls) -> RegistrySnapshot:
        return cls.build(version=0, agencies=(), systems=(), services=(), keys=(), grants=())

    def has_grant(self, system_id: int, service_id: str) -> bool:
        return (system_id, service_id) in self._grants

    def granted_services(self, system_id: int) -> list[str]:
        return sorted(sid for (sys_id, sid) in self._grants if sys_id == system_id)


class SnapshotHolder:
    """Where the current snapshot lives; swapped whole (atomic in asyncio), never mutated."""

    def __init__(self, snapshot: RegistrySnapshot | None = None) -> None:
        self.current = snapshot if snapshot is not None else RegistrySnapshot.empty()
        self.loaded = snapshot is not None

    def replace(self, snapshot: RegistrySnapshot) -> None:
        self.current = snapshot
        self.loaded = True
