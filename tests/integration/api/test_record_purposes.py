"""A record's declared purpose in the audit views (docs/audit-log.md, "Declared purposes"):
whoever may see a record sees what was declared, with ``purpose_registered`` saying whether
the registry knows it — a party's proof carries the record byte for byte anyway. Only the
citizen's view replaces an unregistered purpose (tests/integration/citizen/)."""

from __future__ import annotations

import dataclasses
from typing import Any

from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.web.app import PanjerehApp
from tests.integration.api.conftest import Api
from tests.support import RECORD

PHISHING = "Your account is frozen - call 021-8888-0000"
REGISTERED = "benefit-eligibility"
UNREGISTERED_ID = "0190f3c2-5555-7000-8000-000000000001"
REGISTERED_ID = "0190f3c2-5555-7000-8000-000000000002"

# The consumer (social-security) declared it; the owner (civil-registry) provides the service.
PARTIES = ["consumer", "owner", "auditor", "operator"]


async def write_purposes(app: PanjerehApp) -> None:
    """Two records of social-security/benefits on civil-registry.person.v1: one with a
    purpose nobody registered, one with a registered purpose."""
    records = [
        dataclasses.replace(RECORD, exchange_id=UNREGISTERED_ID, purpose=PHISHING),
        dataclasses.replace(RECORD, exchange_id=REGISTERED_ID, purpose=REGISTERED),
    ]
    store = SqlAuditStore(app.runtime.engine)
    try:
        await store.append(records)
    finally:
        await store.close()


async def _records(api: Api, persona: str) -> dict[str, dict[str, Any]]:
    answer = await api.client.get("/api/v1/audit/records", headers=api.auth(persona))
    assert answer.status_code == 200, answer.text
    return {r["exchange_id"]: r for r in answer.json()["records"]}


async def test_every_party_sees_the_declared_purpose_and_whether_it_is_registered(
    api: Api,
) -> None:
    await write_purposes(api.app)
    for persona in PARTIES:
        found = await _records(api, persona)
        row = found[UNREGISTERED_ID]
        assert (row["purpose"], row["purpose_registered"]) == (PHISHING, False), persona
        registered = found[REGISTERED_ID]
        assert (registered["purpose"], registered["purpose_registered"]) == (REGISTERED, True)
    assert await _records(api, "stranger") == {}  # neither record concerns it
