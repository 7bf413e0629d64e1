"""The immutable in-memory picture of the registry the exchange reads on every inquiry.

Built once per registry version by storage; the hot path only does dictionary look-ups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from panjereh.registry.model import Agency, ApiKey, Grant, GrantStatus, Service, SigningKey, System


@dataclass(frozen=True, slots=True)
class RegistrySnapshot:
    version: int
    agencies: Mapping[int, Agency]
    systems: Mapping[int, System]
    services: Mapping[str, Service]
    keys_by_hash: Mapping[str, ApiKey]
    signing_keys: Mapping[tuple[int, str], SigningKey]  # (system id, key id)
    grants: Mapping[tuple[int, str], Grant] = field(repr=False)  # (system id, service id)

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
        signing_keys: Iterable[SigningKey] = (),
    ) -> RegistrySnapshot:
        return cls(
            version=version,
            agencies={a.id: a for a in agencies},
            systems={s.id: s for s in systems},
            services={s.id: s for s in services},
            keys_by_hash={k.key_hash: k for k in keys},
            signing_keys={(k.system_id, k.key_id): k for k in signing_keys},
            grants={
                (g.consumer_system_id, g.service_id): g
                for g in grants
                if g.status is GrantStatus.ACTIVE
            },
        )

    @classmethod
    def empty(cls) -> RegistrySnapshot:
        return cls.build(version=0, agencies=(), systems=(), services=(), keys=(), grants=())

    def grant(self, system_id: int, service_id: str) -> Grant | None:
        """The active grant of a system on a service (its validity window is checked by the
        caller, who knows today's date)."""
        return self.grants.get((system_id, service_id))

    def has_grant(self, system_id: int, service_id: str) -> bool:
        return (system_id, service_id) in self.grants

    def granted_services(self, system_id: int) -> list[str]:
        return sorted(sid for (sys_id, sid) in self.grants if sys_id == system_id)


class SnapshotHolder:
    """Where the current snapshot lives; swapped whole (atomic in asyncio), never mutated."""

    def __init__(self, snapshot: RegistrySnapshot | None = None) -> None:
        self.current = snapshot if snapshot is not None else RegistrySnapshot.empty()
        self.loaded = snapshot is not None

    def replace(self, snapshot: RegistrySnapshot) -> None:
        self.current = snapshot
        self.loaded = True
