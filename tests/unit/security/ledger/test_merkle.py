"""RFC 6962 hashing, tree roots, proof generation and verification against transparency-dev/merkle's data.

Every published probe is run, the negative cases included: a verifier that accepted everything, or one
that rejected everything, fails here (the fixture holds both kinds, checked below).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shopsight.security.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "data" / "rfc6962_vectors.json").read_text())
LEAVES = [hash_leaf(bytes.fromhex(leaf)) for leaf in VECTORS["leaves"]]


def _hashes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


def test_the_fixture_has_valid_and_invalid_probes() -> None:
    for kind in ("inclusion_probes", "consistency_probes"):
        wants = [probe["want_error"] for probe in VECTORS[kind]]
        assert len(wants) == 98 and wants.count(False) >= 5 and wants.count(True) >= 80


def test_known_hashes() -> None:
    empty, empty_leaf, leaf, node = VECTORS["hasher"]
    assert EMPTY_ROOT.hex() == root_from_leaf_hashes([]).hex() == empty["want"]
    assert hash_leaf(bytes.fromhex(empty_leaf["leaf"])).hex() == empty_leaf["want"]
    assert hash_leaf(bytes.fromhex(leaf["leaf"])).hex() == leaf["want"]
    assert hash_children(bytes.fromhex(node["left"]), bytes.fromhex(node["right"])).hex() == node["want"]


def test_roots_of_every_prefix() -> None:
    for size, root in enumerate(VECTORS["roots"], start=1):
        assert root_from_leaf_hashes(LEAVES[:size]).hex() == root, size


def test_compact_range_survives_a_save_and_restore() -> None:
    partial = CompactRange()
    for leaf in LEAVES[:5]:
        partial.append(leaf)
    restored = CompactRange(partial.size, partial.hashes())
    for leaf in LEAVES[5:]:
        restored.append(leaf)
    assert restored.root().hex() == VECTORS["roots"][-1]
    with pytest.raises(ValueError, match="subtree hashes"):
        CompactRange(5, partial.hashes()[:1])


@pytest.mark.parametrize(
    "vector", VECTORS["inclusion_proofs"], ids=lambda v: f"{v['leaf_number']}of{v['tree_size']}"
)
def test_inclusion_proofs_match_the_golden_ones(vector: dict[str, Any]) -> None:
    size, index = vector["tree_size"], vector["leaf_number"] - 1
    proof = inclusion_proof(LEAVES[:size], index)
    assert [node.hex() for node in proof] == vector["proof"]
    root = bytes.fromhex(VECTORS["roots"][size - 1])
    verify_inclusion(index=index, size=size, leaf_hash=LEAVES[index], proof=proof, root=root)


@pytest.mark.parametrize("vector", VECTORS["consistency_proofs"], ids=lambda v: f"{v['size1']}to{v['size2']}")
def test_consistency_proofs_match_the_golden_ones(vector: dict[str, Any]) -> None:
    size1, size2 = vector["size1"], vector["size2"]
    proof = consistency_proof(LEAVES[:size2], size1)
    assert [node.hex() for node in proof] == vector["proof"]
    roots = VECTORS["roots"]
    verify_consistency(
        size1=size1, size2=size2, proof=proof, root1=bytes.fromhex(roots[size1 - 1]),
        root2=bytes.fromhex(roots[size2 - 1]),
    )  # fmt: skip


def test_every_generated_proof_of_the_eight_leaf_tree_verifies() -> None:
    roots = _hashes(VECTORS["roots"])
    for size in range(1, 9):
        for index in range(size):
            proof = inclusion_proof(LEAVES[:size], index)
            verify_inclusion(
                index=index, size=size, leaf_hash=LEAVES[index], proof=proof, root=roots[size - 1]
            )
        for first in range(1, size + 1):
            proof = consistency_proof(LEAVES[:size], first)
            verify_consistency(
                size1=first, size2=size, proof=proof, root1=roots[first - 1], root2=roots[size - 1]
            )


@pytest.mark.parametrize(
    "probe", VECTORS["inclusion_probes"], ids=lambda p: p["file"].removeprefix("testdata/")
)
def test_inclusion_probes(probe: dict[str, Any]) -> None:
    def check() -> None:
        verify_inclusion(
            index=probe["leaf_index"], size=probe["tree_size"], leaf_hash=bytes.fromhex(probe["leaf_hash"]),
            proof=_hashes(probe["proof"]), root=bytes.fromhex(probe["root"]),
        )  # fmt: skip

    if probe["want_error"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


@pytest.mark.parametrize(
    "probe", VECTORS["consistency_probes"], ids=lambda p: p["file"].removeprefix("testdata/")
)
def test_consistency_probes(probe: dict[str, Any]) -> None:
    def check() -> None:
        verify_consistency(
            size1=probe["size1"], size2=probe["size2"], proof=_hashes(probe["proof"]),
            root1=bytes.fromhex(probe["root1"]), root2=bytes.fromhex(probe["root2"]),
        )  # fmt: skip

    if probe["want_error"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


def test_proof_requests_out_of_range_are_refused() -> None:
    with pytest.raises(ProofError):
        inclusion_proof(LEAVES[:3], 3)
    with pytest.raises(ProofError):
        consistency_proof(LEAVES[:3], 0)
    with pytest.raises(ProofError):
        consistency_proof(LEAVES[:3], 4)


def test_swapped_children_and_leaf_node_confusion_hash_differently() -> None:
    left, right = hash_leaf(b"Hello"), hash_leaf(b"World")
    assert hash_children(left, right) != hash_children(right, left)
    assert hash_children(left, right) != hash_leaf(left + right)  # second-preimage resistance
