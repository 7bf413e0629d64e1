"""GET /api/v1/audit/records/{id}/proof: who may see which record's proof, and that the
proof checks offline with the published keys."""

from __future__ import annotations

import base64
import dataclasses

from panjereh.audit.proofs import check
from panjereh.audit.records import AuditRecord
from panjereh.storage.audit_repo import SqlAuditStore
from tests.integration.api.conftest import Api
from tests.support import RECORD

EXCHANGE_ID = "0190f3c2-3333-7000-8000-000000000001"


def _record(n: int) -> AuditRecord:
    """The chain tests' record (social-security/benefits asking civil-registry), numbered."""
    return dataclasses.replace(RECORD, exchange_id=f"0190f3c2-3333-7000-8000-{n:012d}")


async def _write(api: Api, count: int) -> None:
    store = SqlAuditStore(api.app.runtime.engine)
    try:
        await store.append([_record(n) for n in range(1, count + 1)])
    finally:
        await store.close()


def _keys(jwks: dict[str, list[dict[str, str]]]) -> dict[str, bytes]:
    return {
        k["kid"]: base64.urlsafe_b64decode(k["x"] + "=" * (-len(k["x"]) % 4)) for k in jwks["keys"]
    }


async def test_the_parties_see_the_proof_and_it_checks_offline(api: Api) -> None:
    await _write(api, 5)
    path = f"/api/v1/audit/records/{EXCHANGE_ID}/proof"
    pending = await api.client.get(path, headers=api.auth("operator"))
    assert pending.status_code == 409  # no checkpoint covers it yet
    assert await api.app.runtime.checkpoint() is not None
    statuses = {
        persona: (await api.client.get(path, headers=api.auth(persona))).status_code
        for persona in ("nobody", "stranger", "consumer", "owner", "auditor", "operator")
    }
    assert statuses == {
        "nobody": 401,
        "stranger": 404,  # neither asked nor was asked: as if there were no such record
        "consumer": 200,
        "owner": 200,
        "auditor": 200,
        "operator": 200,
    }
    proof = (await api.client.get(path, headers=api.auth("consumer"))).json()
    jwks = (await api.client.get("/exchange/v1/keys")).json()
    assert check(proof, _keys(jwks).get) == _record(1)
    missing = await api.client.get(
        "/api/v1/audit/records/0190f3c2-3333-7000-8000-999999999999/proof",
        headers=api.auth("operator"),
    )
    assert missing.status_code == 404
