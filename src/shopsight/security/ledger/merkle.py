"""RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs. Pure functions, no storage.

Leaf hash ``SHA-256(0x00 || data)``, node hash ``SHA-256(0x01 || left || right)``, and a tree of ``n``
leaves splits at the largest power of two smaller than ``n`` (RFC 6962 section 2.1). Proof generation
follows RFC 6962 2.1.1 / 2.1.2 (``PATH`` and ``SUBPROOF``); verification follows the algorithms of
RFC 9162 2.1.3.2 and 2.1.4.2, which is what transparency-dev/merkle's published test data checks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) is the hash of the empty string
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "ProofError",
    "consistency_proof",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]


class ProofError(ValueError):
    """A proof, or the request for one, is invalid."""


def hash_leaf(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one entry."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over already-hashed leaves, computed incrementally in O(log n) memory."""
    frontier = CompactRange()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


def _subtree_root(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    return root_from_leaf_hashes(leaves[start:end])


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]): the audit path of leaf ``index`` in the tree over ``leaves`` (RFC 6962 2.1.1)."""
    if not 0 <= index < len(leaves):
        raise ProofError(f"leaf index {index} is outside a tree of size {len(leaves)}")
    proof: list[bytes] = []
    start, end = 0, len(leaves)
    while end - start > 1:  # walk down from the root, collecting the sibling of each step
        k = _split(end - start)
        if index < start + k:
            proof.append(_subtree_root(leaves, start + k, end))
            end = start + k
        else:
            proof.append(_subtree_root(leaves, start, start + k))
            start += k
    proof.reverse()  # the path is listed from the leaf up
    return proof


def consistency_proof(leaves: Sequence[bytes], first: int) -> list[bytes]:
    """PROOF(first, D[n]): shows the tree of size ``first`` is a prefix of the one over ``leaves``."""
    if not 1 <= first <= len(leaves):
        raise ProofError(f"size {first} is outside 1..{len(leaves)}")
    if first == len(leaves):
        return []
    return _subproof(leaves, first, 0, len(leaves), complete=True)


def _subproof(leaves: Sequence[bytes], m: int, start: int, end: int, *, complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b) of RFC 6962 2.1.2, with ``m`` relative to ``start``."""
    n = end - start
    if m == n:
        return [] if complete else [_subtree_root(leaves, start, end)]
    k = _split(n)
    if m <= k:
        left = _subproof(leaves, m, start, start + k, complete=complete)
        return [*left, _subtree_root(leaves, start + k, end)]
    right = _subproof(leaves, m - k, start + k, end, complete=False)
    return [*right, _subtree_root(leaves, start, start + k)]


def _shift_while_right_child(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until ``fn`` is odd or 0 (RFC 9162: skip levels where the node is a left child)."""
    while fn & 1 == 0 and fn != 0:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(*, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows ``leaf_hash`` at ``index`` in the tree ``root``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf_hash)}")
    fn, sn, running = index, size - 1, leaf_hash
    for sibling in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path")
        if fn & 1 or fn == sn:
            running = hash_children(sibling, running)
            fn, sn = _shift_while_right_child(fn, sn)
        else:
            running = hash_children(running, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path")
    if running != root:
        raise ProofError("inclusion proof does not lead to the root hash")


def verify_consistency(*, size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows tree (size1, root1) is a prefix of (size2, root2)."""
    if not 0 <= size1 <= size2:
        raise ProofError(f"size {size1} cannot precede size {size2}")
    if size1 == 0:  # as RFC 9162 and transparency-dev/merkle: there is nothing to prove about an empty tree
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if size1 == size2:
        if proof:
            raise ProofError("trees of equal size need an empty proof")
        if root1 != root2:
            raise ProofError("trees of equal size have different roots")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    _check_consistency_path(size1, size2, list(proof), root1, root2)


def _check_consistency_path(size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes) -> None:
    if size1 & (size1 - 1) == 0:  # a complete old tree is itself a node of the new one: seed with root1
        proof = [root1, *proof]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old, new = proof[0], proof[0]
    for node in proof[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path")
        if fn & 1 or fn == sn:
            old, new = hash_children(node, old), hash_children(node, new)
            fn, sn = _shift_while_right_child(fn, sn)
        else:
            new = hash_children(new, node)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path")
    if old != root1:
        raise ProofError("consistency proof does not lead to the old root hash")
    if new != root2:
        raise ProofError("consistency proof does not lead to the new root hash")


class CompactRange:
    """The right edge of a growing tree: one root per complete subtree, O(log n) hashes.

    ``append`` adds a leaf hash in amortised O(1); ``root`` folds the subtrees right to left into MTH.
    The hashes can be saved and restored (:meth:`hashes`, :meth:`from_hashes`) so an append never
    rereads old leaves.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a range of size {size} has {size.bit_count()} subtree hashes, not {len(hashes)}"
            )
        self.size = size
        self._hashes = list(hashes)  # largest (leftmost) subtree first

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash, merging equal-sized subtrees like a binary counter."""
        node, size = leaf, self.size
        while size & 1:
            node = hash_children(self._hashes.pop(), node)
            size >>= 1
        self._hashes.append(node)
        self.size += 1

    def root(self) -> bytes:
        """MTH of the leaves appended so far (the empty-string hash for no leaves)."""
        if not self._hashes:
            return EMPTY_ROOT
        node = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            node = hash_children(left, node)
        return node

    def hashes(self) -> list[bytes]:
        """The subtree roots, largest first (what :meth:`from_hashes` takes back)."""
        return list(self._hashes)
