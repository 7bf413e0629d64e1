"""Merkle tree hashes and inclusion proofs as RFC 9162 (Certificate Transparency 2.0) defines
them, with SHA-256.

- a leaf's hash is ``SHA-256(0x00 || data)``, an interior node's ``SHA-256(0x01 || left ||
  right)``: distinct prefixes, so a leaf can never pass for a node (second-preimage
  attacks);
- the tree over n leaves splits at k, the largest power of two below n (§2.1.1), so a tree is
  defined for every size, not only powers of two;
- an inclusion proof is the audit path of §2.1.3.1 and is checked with the algorithm of
  §2.1.3.2, which needs only the leaf, its index, the tree size, the path and the root.

The audit log's signed checkpoints commit to the records since the previous checkpoint with
such a root (docs/audit-log.md); a record's proof is its path in that tree.  Everything here
works on leaf hashes (32 bytes each), so a caller hashes each leaf once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_BYTES = 32
_LEAF, _NODE = b"\x00", b"\x01"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE + left + right).digest()


def empty_root() -> bytes:
    """The root of a tree with no leaves: the hash of the empty string (§2.1.1)."""
    return hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash over ``leaves`` (leaf hashes, in order)."""
    if not leaves:
        return empty_root()
    # Bottom-up with a stack of perfect subtrees: equal to the recursive definition, O(n) and
    # without recursion.  Each stack entry is (height, hash); two equal heights merge.
    stack: list[tuple[int, bytes]] = []
    for leaf in leaves:
        height, value = 0, leaf
        while stack and stack[-1][0] == height:
            _, left = stack.pop()
            value = node_hash(left, value)
            height += 1
        stack.append((height, value))
    # The remaining perfect subtrees, right to left, fold into the root (the right edge of a
    # tree whose size is not a power of two).
    _, value = stack.pop()
    while stack:
        _, left = stack.pop()
        value = node_hash(left, value)
    return value


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree over ``leaves`` (§2.1.3.1), leaf to root."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    low, high = 0, len(leaves)  # the subtree [low, high) that holds the leaf
    # Walk down from the root, remembering each sibling; the path lists them bottom-up.
    while high - low > 1:
        k = _split(high - low)
        if index < low + k:
            path.append(root(leaves[low + k : high]))
            high = low + k
        else:
            path.append(root(leaves[low : low + k]))
            low = low + k
    path.reverse()
    return path


def root_from_proof(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root that ``path`` proves for ``leaf`` at ``index`` in a tree of ``size`` leaves
    (§2.1.3.2), or None if the path cannot be a proof for that position."""
    if not 0 <= index < size or any(len(p) != HASH_BYTES for p in path):
        return None
    fn, sn = index, size - 1
    value = leaf
    for sibling in path:
        if sn == 0:
            return None  # a longer path than the tree is high
        if fn & 1 or fn == sn:
            value = node_hash(sibling, value)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            value = node_hash(value, sibling)
        fn >>= 1
        sn >>= 1
    return value if sn == 0 else None


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes
) -> bool:
    found = root_from_proof(leaf, index, size, path)
    return found is not None and found == expected_root
