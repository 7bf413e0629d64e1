"""RFC 9162 Merkle tree hashes and inclusion proofs: the CT test vectors, and every proof of
every leaf of small trees checked both ways."""

from __future__ import annotations

import hashlib

import pytest

from panjereh.audit.merkle import (
    empty_root,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_from_proof,
    verify_inclusion,
)

# The inputs and roots used by Certificate Transparency's reference tests (RFC 6962 trees).
CT_INPUTS = [
    b"",
    bytes.fromhex("00"),
    bytes.fromhex("10"),
    bytes.fromhex("2021"),
    bytes.fromhex("3031"),
    bytes.fromhex("40414243"),
    bytes.fromhex("5051525354555657"),
    bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _recursive_root(leaves: list[bytes]) -> bytes:
    """The definition of RFC 9162 §2.1.1, literally."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_recursive_root(leaves[:k]), _recursive_root(leaves[k:]))


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(f"record {i}".encode()) for i in range(n)]


def test_the_empty_tree_is_the_hash_of_nothing() -> None:
    assert empty_root().hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert root([]) == empty_root()


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_certificate_transparency(size: int) -> None:
    leaves = [leaf_hash(data) for data in CT_INPUTS[:size]]
    assert root(leaves).hex() == CT_ROOTS[size - 1]


@pytest.mark.parametrize("size", [*range(1, 70), 127, 128, 129, 1000])
def test_the_iterative_root_is_the_recursive_definition(size: int) -> None:
    leaves = _leaves(size)
    assert root(leaves) == _recursive_root(leaves)


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    # A leaf whose data is two hashes does not hash like the node over them.
    assert leaf_hash(left + right) != node_hash(left, right)
    assert leaf_hash(b"a") == hashlib.sha256(b"\x00a").digest()
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


@pytest.mark.parametrize("size", range(1, 34))
def test_every_leaf_of_every_small_tree_proves_its_inclusion(size: int) -> None:
    leaves = _leaves(size)
    top = root(leaves)
    for index, leaf in enumerate(leaves):
        path = inclusion_proof(leaves, index)
        assert root_from_proof(leaf, index, size, path) == top
        assert verify_inclusion(leaf, index, size, path, top)


def test_the_ct_tree_of_eight_has_the_known_path_for_leaf_zero() -> None:
    leaves = [leaf_hash(data) for data in CT_INPUTS]
    path = inclusion_proof(leaves, 0)
    assert [p.hex() for p in path] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]


def test_a_proof_fails_for_another_leaf_index_size_root_or_path() -> None:
    leaves = _leaves(13)
    top = root(leaves)
    path = inclusion_proof(leaves, 5)
    assert verify_inclusion(leaves[5], 5, 13, path, top)
    assert not verify_inclusion(leaves[6], 5, 13, path, top)  # another record
    assert not verify_inclusion(leaves[5], 4, 13, path, top)  # another position
    # Another tree size of another shape (the size itself is bound by the signed checkpoint,
    # which carries it beside the root: 13 and 14 give leaf 5 paths of the same shape).
    assert not verify_inclusion(leaves[5], 5, 6, path, top)
    assert not verify_inclusion(leaves[5], 5, 32, path, top)
    assert not verify_inclusion(leaves[5], 5, 13, path, root(leaves[:12]))  # another root
    assert not verify_inclusion(leaves[5], 5, 13, path[:-1], top)  # a path too short
    assert not verify_inclusion(leaves[5], 5, 13, [*path, path[0]], top)  # too long
    tampered = [bytes(32), *path[1:]]
    assert not verify_inclusion(leaves[5], 5, 13, tampered, top)
    assert root_from_proof(leaves[5], 13, 13, path) is None  # index outside the tree
    assert root_from_proof(leaves[5], 5, 13, [b"short", *path[1:]]) is None


def test_a_proof_of_a_leaf_outside_the_tree_is_refused() -> None:
    with pytest.raises(IndexError):
        inclusion_proof(_leaves(3), 3)
    with pytest.raises(IndexError):
        inclusion_proof([], 0)


def test_a_single_leaf_tree_has_an_empty_path() -> None:
    leaves = _leaves(1)
    assert inclusion_proof(leaves, 0) == []
    assert root(leaves) == leaves[0]
    assert verify_inclusion(leaves[0], 0, 1, [], leaves[0])


def test_the_verifiers_level_by_level_root_is_the_rfc_root() -> None:
    """`panjereh.storage.audit_scan.tree_root` (used by verify) against `root` for every
    size up to 300 and a few large ones."""
    from panjereh.storage.audit_scan import tree_root

    leaves = [leaf_hash(n.to_bytes(4, "big")) for n in range(1100)]
    for size in [*range(301), 511, 512, 513, 1023, 1100]:
        assert tree_root(leaves[:size]) == root(leaves[:size]), size
