"""A record's proof bundle: checks offline, and fails at the step that was tampered with."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime
from typing import Any

import nacl.bindings
import pytest

from panjereh.audit import merkle
from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
from panjereh.audit.checkpoints import NO_PREVIOUS, Checkpoint
from panjereh.audit.proofs import ProofError, bundle, check
from tests.support import RECORD

PUBLIC, SECRET = nacl.bindings.crypto_sign_seed_keypair(bytes(range(32)))
KEYS = {"k1": PUBLIC}


def _sign(body: bytes) -> bytes:
    return nacl.bindings.crypto_sign(body, SECRET)[:64]


def _records(n: int) -> list[Any]:
    return [
        dataclasses.replace(RECORD, exchange_id=f"0190f3c2-1111-7000-8000-{i:012d}")
        for i in range(1, n + 1)
    ]


def _proof(target: int, count: int = 6) -> dict[str, Any]:
    """Shard "w1", records 1..count in one checkpoint; the proof of record ``target``."""
    records = _records(count)
    hashes, head = [], GENESIS
    for seq, record in enumerate(records, start=1):
        head = chain_hash(head, canonical_bytes(record, "w1", seq))
        hashes.append(head)
    leaves = [merkle.leaf_hash(h) for h in hashes]
    checkpoint = Checkpoint(
        number=1,
        created_at=datetime(2026, 12, 2, 12, 0, tzinfo=UTC),
        heads={"w1": (count, hashes[-1].hex())},
        ranges={"w1": (1, count)},
        tree_size=count,
        merkle_root=merkle.root(leaves).hex(),
        previous=NO_PREVIOUS,
    ).signed("k1", _sign)
    return bundle(
        records[target - 1],
        shard="w1",
        seq=target,
        previous_hash=hashes[target - 2] if target > 1 else GENESIS,
        leaf_index=target - 1,
        path=merkle.inclusion_proof(leaves, target - 1),
        checkpoint=checkpoint,
    )


@pytest.mark.parametrize("target", range(1, 7))
def test_every_records_proof_checks_with_the_public_key(target: int) -> None:
    assert check(_proof(target), KEYS.get) == _records(6)[target - 1]


def _tampered(change: str) -> dict[str, Any]:
    proof = copy.deepcopy(_proof(3))
    if change == "field":
        proof["record"]["purpose"] = "curiosity"
    elif change == "path":
        proof["path"][0] = "00" * 32
    elif change == "previous":
        proof["previous_hash"] = "11" * 32
    elif change == "index":
        proof["leaf_index"] = 3
    elif change == "seq":
        proof["seq"] = 4
    elif change == "root":
        proof["checkpoint"]["merkle_root"] = "22" * 32
    elif change == "signature":
        proof["checkpoint"]["signature"] = proof["checkpoint"]["signature"][::-1]
    elif change == "format":
        proof["format"] = "other"
    elif change == "missing":
        del proof["path"]
    return proof


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("field", "do not agree"),
        ("path", "do not agree"),
        ("previous", "do not agree"),
        ("index", "do not agree"),
        ("seq", "do not agree"),
        ("root", "do not agree"),
        ("signature", "signature does not verify"),
        ("format", "not a panjereh.proof/1 proof"),
        ("missing", "incomplete or malformed"),
    ],
)
def test_a_tampered_proof_fails_at_its_step(change: str, message: str) -> None:
    with pytest.raises(ProofError, match=message):
        check(_tampered(change), KEYS.get)


def test_an_unknown_key_proves_nothing() -> None:
    with pytest.raises(ProofError, match="signature does not verify"):
        check(_proof(2), lambda _key_id: None)
