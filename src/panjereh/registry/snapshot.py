"""The immutable in-memory picture of the registry the exchange reads on every inquiry.

Built once per registry version by storage; the hot path only does dictionary look-ups.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import jsonschema_rs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from panjereh.registry.model import Agency, ApiKey, Grant, GrantStatus, Service, SigningKey, System
from panjereh.registry.schemas import ValidatorCache, schema_hash


@dataclass(frozen=True, slots=True)
class RegistrySnapshot:
    version: int
    agencies: Mapping[int, Agency]
    systems: Mapping[int, System]
    services: Mapping[str, Service]
    keys_by_hash: Mapping[str, ApiKey]
    signing_keys: Mapping[tuple[int, str], SigningKey]  # (system id, key id)
    grants: Mapping[tuple[int, str], Grant] = field(repr=False)  # (system id, service id)
    systems_by_ident: Mapping[str, System] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        *,
        version: int,
        agencies: Iterable[Agency],
        systems: Collection[System],
        services: Iterable[Service],
        keys: Iterable[ApiKey],
        grants: Iterable[Grant],
        signing_keys: Iterable[SigningKey] = (),
    ) -> RegistrySnapshot:
        return cls(
            version=version,
            agencies={a.id: a for a in agencies},
            systems={s.id: s for s in systems},
            systems_by_ident={s.ident: s for s in systems},
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


@dataclass(frozen=True, slots=True)
class PublicKeyEntry:
    """A system's signing key, loaded once per snapshot (not per signed request)."""

    key: SigningKey
    system: System
    public_key: Ed25519PublicKey


def _public_keys(snapshot: RegistrySnapshot) -> dict[str, PublicKeyEntry]:
    """Signing keys by their RFC 9421 keyid, ``agency/system/key_id``."""
    found = {}
    for (system_id, key_id), key in snapshot.signing_keys.items():
        system = snapshot.systems.get(system_id)
        if system is None or len(key.public_key) != 32:
            continue
        public = Ed25519PublicKey.from_public_bytes(key.public_key)
        found[f"{system.ident}/{key_id}"] = PublicKeyEntry(key, system, public)
    return found


class SnapshotHolder:
    """Where the current snapshot lives, with the compiled request validators of its services.

    Swapped whole (atomic within the event loop), never mutated. Validators are compiled
    before the swap and shared across snapshots by schema hash, so a refresh compiles only
    schemas it has not seen and the hot path never compiles or hashes anything.
    """

    def __init__(self, snapshot: RegistrySnapshot | None = None) -> None:
        self._cache = ValidatorCache()
        self.current = RegistrySnapshot.empty()
        self.request_validators: Mapping[str, jsonschema_rs.Validator] = {}
        self.public_keys: Mapping[str, PublicKeyEntry] = {}
        self.loaded = False
        if snapshot is not None:
            self.replace(snapshot)

    def replace(self, snapshot: RegistrySnapshot) -> None:
        validators = {
            service.id: self._cache.get(service.request_schema)
            for service in snapshot.services.values()
            if service.is_callable and service.request_schema
        }
        self._cache.retain({schema_hash(s.request_schema) for s in snapshot.services.values()})
        self.request_validators = validators
        self.public_keys = _public_keys(snapshot)
        self.current = snapshot
        self.loaded = True

    @property
    def compiled_schemas(self) -> int:
        """How many schemas this process has compiled so far (for tests and metrics)."""
        return self._cache.compiled
