"""A signed request is not answered twice because the exchange restarted in between.

The exchange remembers the X-Request-Ids it answered (memory mode: in the process) and takes a
signature for at most 5 minutes; a restart forgot the ids while the signature was still young,
so a captured request could be sent again and was answered again.  Now a signature created
before the replay store started is refused (``unauthenticated``, reason ``stale``): the caller
signs again.  The clock is the test's, so "a restart 5 s later" takes no time.

Persona: the granted consumer (social-security/benefits) signing with its registered key.
On SQLite only: the store under test is the process's memory (the Redis store is tested in
tests/integration/redis/test_redis_state.py); records on both backends are the other exchange
tests' business.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest

from panjereh.audit.records import Outcome
from panjereh.domain.clock import FixedClock, utc_now
from tests.integration.exchange.harness import (
    GRANTED,
    PERSON,
    prepare_database,
    running,
    signed_headers,
)

KEYID = f"{GRANTED}/2026-12"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_a_signed_request_answered_before_a_restart_is_refused_after_it(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    clock = FixedClock(utc_now().replace(microsecond=0))
    await prepare_database(database_url, sqlite_template)
    async with running(database_url, tmp_path / "var", clock=clock) as platform:
        port = platform.settings.port
        key = await platform.add_signing_key(GRANTED, "2026-12")
        body = orjson.dumps({"national_code": platform.citizen})
        clock.advance(1)  # signed after the store started
        captured = signed_headers(
            key, KEYID, authority=platform.authority, body=body,
            request_id=str(uuid.uuid4()), created=clock.now().timestamp(),
        )  # fmt: skip
        first = await platform.client.post(PERSON, content=body, headers=captured)
        assert first.status_code == 200
        retried = await platform.client.post(PERSON, content=body, headers=captured)
        assert retried.headers["x-replayed"] == "true"  # the same process remembers it

    clock.advance(5)  # the exchange restarts, at the same address; the signature is 6 s old
    async with running(database_url, tmp_path / "var", clock=clock, port=port) as platform:
        replayed = await platform.client.post(PERSON, content=body, headers=captured)
        assert replayed.status_code == 401
        problem = replayed.json()
        assert (problem["code"], problem["reason"]) == ("unauthenticated", "stale")
        assert "sign the request again" in problem["detail"]
        record = await platform.record(replayed)
        assert (record.outcome, record.status_code, record.error_type) == (
            Outcome.DENIED,
            401,
            "unauthenticated",
        )
        assert record.provider_ms is None  # nothing reached the provider
        answered = await platform.records_with_request_id(captured["x-request-id"])
        assert [r.outcome for r in answered] == [Outcome.OK, Outcome.OK, Outcome.DENIED]

        clock.advance(1)
        fresh = signed_headers(
            key, KEYID, authority=platform.authority, body=body,
            request_id=str(uuid.uuid4()), created=clock.now().timestamp(),
        )  # fmt: skip
        again = await platform.client.post(PERSON, content=body, headers=fresh)
        assert again.status_code == 200  # signed after the restart: answered
        assert (await platform.record(again)).auth_method == "signature"
