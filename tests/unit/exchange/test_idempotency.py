"""X-Request-Id: replay, conflict, waiting for the first inquiry, release, expiry and bounds."""

from __future__ import annotations

import asyncio
from typing import Any

from panjereh.domain.clock import FixedClock
from panjereh.exchange.cache import StoredReply
from panjereh.exchange.idempotency import (
    Claim,
    IdempotencyRefusal,
    MemoryIdempotencyStore,
    parse_request_id,
    request_digest,
)

RID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
ANSWER = StoredReply(200, b'{"alive":true}', "application/json", (("x-exchange-id", "e-1"),))


class Store:
    """A memory store on a clock the test moves."""

    def __init__(self, **options: Any) -> None:
        self.clock = FixedClock()
        self.store = MemoryIdempotencyStore(
            monotonic=lambda: self.clock.now().timestamp(),
            wall=lambda: self.clock.now().timestamp(),
            **options,
        )

    async def claim(self, request_id: str = RID, digest: str = "d1") -> Claim:
        outcome = await self.store.begin("social-security/benefits", request_id, digest)
        assert isinstance(outcome, Claim)
        return outcome


async def test_the_first_use_is_a_claim_and_a_retry_replays_the_stored_answer() -> None:
    s = Store()
    claim = await s.claim()
    await s.store.complete(claim, ANSWER)
    assert await s.store.begin("social-security/benefits", RID, "d1") == ANSWER
    assert await s.store.begin("social-security/benefits", RID, "d1") == ANSWER


async def test_the_same_id_with_another_body_is_a_conflict() -> None:
    s = Store()
    await s.store.complete(await s.claim(), ANSWER)
    outcome = await s.store.begin("social-security/benefits", RID, "d2")
    assert outcome is IdempotencyRefusal.CONFLICT


async def test_the_same_id_from_another_consumer_is_a_new_inquiry() -> None:
    s = Store()
    await s.store.complete(await s.claim(), ANSWER)
    assert isinstance(await s.store.begin("tax-administration/audit", RID, "d1"), Claim)


async def test_a_retry_while_the_first_runs_waits_and_replays_its_answer() -> None:
    s = Store()
    claim = await s.claim()
    retry = asyncio.create_task(s.store.begin("social-security/benefits", RID, "d1"))
    await asyncio.sleep(0.01)
    assert not retry.done()
    await s.store.complete(claim, ANSWER)
    assert await retry == ANSWER


async def test_a_retry_while_the_first_runs_with_another_body_is_a_conflict_at_once() -> None:
    s = Store()
    await s.claim()
    outcome = await s.store.begin("social-security/benefits", RID, "d2")
    assert outcome is IdempotencyRefusal.CONFLICT


async def test_a_retry_gives_up_waiting_after_the_wait_time() -> None:
    s = Store(wait_s=0.02)
    await s.claim()
    outcome = await s.store.begin("social-security/benefits", RID, "d1")
    assert outcome is IdempotencyRefusal.IN_PROGRESS


async def test_a_release_lets_the_waiting_retry_claim_the_key() -> None:
    s = Store()
    first = await s.claim()
    retry = asyncio.create_task(s.store.begin("social-security/benefits", RID, "d1"))
    await asyncio.sleep(0.01)
    await s.store.release(first)
    second = await retry
    assert isinstance(second, Claim)
    assert second.token != first.token
    await s.store.complete(first, ANSWER)  # the first lost its claim: ignored
    await s.store.complete(second, ANSWER)
    assert await s.store.begin("social-security/benefits", RID, "d1") == ANSWER


async def test_a_released_key_is_claimed_again_by_the_next_retry() -> None:
    s = Store()
    await s.store.release(await s.claim())
    await s.claim()


async def test_a_stored_answer_expires_after_ten_minutes() -> None:
    s = Store()
    await s.store.complete(await s.claim(), ANSWER)
    s.clock.advance(599)
    assert await s.store.begin("social-security/benefits", RID, "d1") == ANSWER
    s.clock.advance(1)
    await s.claim()
    assert len(s.store) == 1


async def test_an_abandoned_claim_expires_after_the_pending_ttl() -> None:
    s = Store(pending_ttl_s=120)
    await s.claim()
    s.clock.advance(120)
    await s.claim()


async def test_the_oldest_entries_are_evicted_beyond_the_entry_limit() -> None:
    s = Store(max_entries=3)
    ids = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(5)]
    for rid in ids:
        await s.store.complete(await s.claim(rid), ANSWER)
    assert len(s.store) == 3
    assert isinstance(await s.store.begin("social-security/benefits", ids[0], "d1"), Claim)
    assert await s.store.begin("social-security/benefits", ids[4], "d1") == ANSWER


async def test_the_oldest_entries_are_evicted_beyond_the_byte_limit() -> None:
    big = StoredReply(200, b"x" * 1000)
    s = Store(max_bytes=4500)
    ids = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(6)]
    for rid in ids:
        await s.store.complete(await s.claim(rid), big)
    assert s.store.bytes <= 4500
    assert len(s.store) == 3
    assert isinstance(await s.store.begin("social-security/benefits", ids[2], "d1"), Claim)
    assert await s.store.begin("social-security/benefits", ids[5], "d1") == big


async def test_an_answer_too_large_to_keep_is_not_replayed() -> None:
    s = Store(max_reply_bytes=500)
    await s.store.complete(await s.claim(), StoredReply(200, b"x" * 1000))
    await s.claim()


def test_request_ids_are_uuids_in_canonical_form() -> None:
    assert parse_request_id(RID.upper()) == RID
    assert parse_request_id("{" + RID + "}") == RID
    assert parse_request_id(RID.replace("-", "")) == RID
    assert parse_request_id("not-a-uuid") is None
    assert parse_request_id(RID[:-1] + "٧") is None  # a Persian digit seven
    assert parse_request_id("") is None


def test_the_digest_covers_service_purpose_and_body() -> None:
    base = request_digest("civil-registry.person.v1", "benefit", b"{}")
    assert base == request_digest("civil-registry.person.v1", "benefit", b"{}")
    assert base != request_digest("civil-registry.alive.v1", "benefit", b"{}")
    assert base != request_digest("civil-registry.person.v1", "tax", b"{}")
    assert base != request_digest("civil-registry.person.v1", "benefit", b"{ }")


# -- signed requests and the store's memory ---------------------------------------------------


async def test_a_signed_request_created_before_the_store_started_is_refused_as_stale() -> None:
    s = Store()
    started = int(s.clock.now().timestamp())
    for created in (started - 200, started - 1):
        outcome = await s.store.begin("social-security/benefits", RID, "d1", signed_at=created)
        assert outcome is IdempotencyRefusal.STALE
    assert len(s.store) == 0  # a stale request claims nothing
    fresh = await s.store.begin("social-security/benefits", RID, "d1", signed_at=started)
    assert isinstance(fresh, Claim)  # signed in the second the store started in: taken


async def test_a_request_without_a_signature_is_never_stale() -> None:
    s = Store()
    assert isinstance(await s.store.begin("social-security/benefits", RID, "d1"), Claim)


async def test_an_evicted_request_moves_the_start_past_its_claim() -> None:
    s = Store(max_entries=2)
    s.clock.advance(10)
    first = int(s.clock.now().timestamp())
    ids = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(3)]
    await s.store.complete(await s.claim(ids[0]), ANSWER)
    s.clock.advance(30)
    for rid in ids[1:]:
        await s.store.complete(await s.claim(rid), ANSWER)
    assert len(s.store) == 2  # the first is forgotten: its signed replay must not pass
    replay = await s.store.begin("social-security/benefits", ids[0], "d1", signed_at=first)
    assert replay is IdempotencyRefusal.STALE
    later = await s.store.begin("social-security/benefits", ids[0], "d1", signed_at=first + 1)
    assert isinstance(later, Claim)
