"""The ledger on both metadata stores: appends, reads, heads, proofs, concurrency, and tamper detection.

Each tamper of ``conftest.TAMPERS`` runs on a fresh 20-entry ledger, and verify must name exactly the
entry the tamper touched first; the intact ledger must verify.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from shopsight.security.ledger import (
    Ledger,
    ProofRequestError,
    TreeHeadSigner,
    verify_consistency,
    verify_inclusion,
)
from shopsight.security.ledger.merkle import EMPTY_ROOT, hash_leaf, root_from_leaf_hashes

ENTRIES = 20  # what the ``filled`` fixture holds


def test_an_empty_ledger_verifies_and_has_a_signed_empty_head(ledger: Ledger) -> None:
    report = ledger.verify()
    assert report.ok and report.tree_size == 0 and report.root_hash == EMPTY_ROOT.hex()
    head = ledger.head()
    assert head.tree_size == 0 and head.root_hash == EMPTY_ROOT.hex() and ledger.verifier.is_valid(head)


def test_appends_are_numbered_hashed_and_signed(ledger: Ledger) -> None:
    first = ledger.append(kind="keys.rotated", data={"version": 2})
    second = ledger.append(kind="role.changed", data={"to": "analyst", "é": "ü"})
    assert (first.index, second.index) == (0, 1)
    document = b'{"data":{"version":2},"kind":"keys.rotated"}'
    assert first.leaf_hash == hash_leaf(document).hex()
    assert second.tree_head.tree_size == 2 and ledger.verifier.is_valid(second.tree_head)
    expected_root = root_from_leaf_hashes([bytes.fromhex(first.leaf_hash), bytes.fromhex(second.leaf_hash)])
    assert ledger.head().root_hash == expected_root.hex()
    assert ledger.entry(1).data == {"to": "analyst", "é": "ü"}


def test_reading_newest_first_with_a_kind_filter(filled: Ledger) -> None:
    assert filled.count() == ENTRIES and filled.size() == ENTRIES
    newest = filled.entries(limit=3)
    assert [entry.index for entry in newest] == [19, 18, 17]
    points = filled.entries(limit=100, kind="points.earned")
    assert [entry.index for entry in points] == [18, 15, 12, 9, 6, 3, 0]
    assert filled.count(kind="points.earned") == 7
    assert [entry.index for entry in filled.entries(offset=2, limit=2, kind="points.earned")] == [12, 9]


def test_inclusion_proofs_of_every_entry_at_several_sizes(filled: Ledger) -> None:
    for size in (1, 13, ENTRIES):
        head = filled.head_at(size)
        assert filled.verifier.is_valid(head)
        for index in range(size):
            proof = filled.inclusion_proof(index, size)
            assert proof.root_hash == head.root_hash and proof.tree_head == head
            verify_inclusion(
                index=index, size=size, leaf_hash=bytes.fromhex(proof.leaf_hash),
                proof=[bytes.fromhex(node) for node in proof.proof], root=bytes.fromhex(head.root_hash),
            )  # fmt: skip


def test_consistency_proofs_between_every_pair_of_sizes(filled: Ledger) -> None:
    for second in (5, 16, ENTRIES):
        for first in range(1, second + 1):
            proof = filled.consistency_proof(first, second)
            root1, root2 = proof.first_head.root_hash, proof.second_head.root_hash
            verify_consistency(
                size1=first, size2=second, proof=[bytes.fromhex(node) for node in proof.proof],
                root1=bytes.fromhex(root1), root2=bytes.fromhex(root2),
            )  # fmt: skip
    assert filled.consistency_proof(3).second == ENTRIES


def test_proofs_outside_the_ledger_are_refused(filled: Ledger) -> None:
    with pytest.raises(ProofRequestError, match="outside"):
        filled.inclusion_proof(ENTRIES)
    with pytest.raises(ProofRequestError, match="outside"):
        filled.inclusion_proof(5, 5)
    with pytest.raises(ProofRequestError, match="outside"):
        filled.consistency_proof(0)
    with pytest.raises(ProofRequestError, match="outside"):
        filled.consistency_proof(4, ENTRIES + 1)


def test_ledgers_with_different_names_are_independent(engine: Engine, signer: TreeHeadSigner) -> None:
    orders = Ledger(engine=engine, name="orders-independent", signer=signer)
    loyalty = Ledger(engine=engine, name="loyalty-independent", signer=signer)
    before = orders.size()
    orders.append(kind="order.placed", data={"order": "o1"})
    loyalty.append(kind="points.earned", data={"points": 5})
    assert orders.size() == before + 1 and orders.verify().ok and loyalty.verify().ok
    # A head of one ledger does not vouch for another (the name is signed).
    assert not signer.verifier.is_valid(orders.head().model_copy(update={"ledger": "loyalty-independent"}))


def test_concurrent_appends_are_serialised(ledger: Ledger) -> None:
    errors: list[BaseException] = []

    def append_many(worker: int) -> None:
        try:
            for number in range(10):
                ledger.append(kind="order.placed", data={"worker": worker, "number": number})
        except BaseException as error:  # surfaced in the main thread below
            errors.append(error)

    threads = [threading.Thread(target=append_many, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ledger.size() == 40 and ledger.verify().ok


def test_the_intact_ledger_verifies(filled: Ledger) -> None:
    report = filled.verify()
    assert report.ok and report.tree_size == ENTRIES and report.first_bad_index is None
    assert report.root_hash == filled.head().root_hash


def test_verify_names_the_first_tampered_entry(filled: Ledger, engine: Engine, tamper: Any) -> None:
    first_bad = tamper.apply(engine, filled.name)
    report = filled.verify()
    assert not report.ok, tamper.name
    assert report.first_bad_index == first_bad, (tamper.name, report.reason)
    assert report.tree_size == first_bad and report.reason
    if first_bad:  # the prefix before the bad entry is reported with its true root
        assert report.root_hash == filled.head_at(first_bad).root_hash


def test_a_head_signed_by_another_key_is_refused(filled: Ledger, engine: Engine) -> None:
    impostor = Ledger(engine=engine, name=filled.name, signer=TreeHeadSigner(Ed25519PrivateKey.generate()))
    impostor.append(kind="order.placed", data={"number": 99})
    report = filled.verify()
    assert (
        not report.ok and report.first_bad_index == ENTRIES and "not the ledger key" in (report.reason or "")
    )


def test_truncating_the_tail_needs_a_saved_head(
    filled: Ledger, engine: Engine, truncate_tail: Callable[[Engine, str, int], None]
) -> None:
    saved = filled.head()
    assert filled.verify(saved_head=saved).ok
    truncate_tail(engine, filled.name, 3)
    assert filled.verify().ok  # the documented limit: a shorter ledger is internally perfect
    report = filled.verify(saved_head=saved)
    assert not report.ok and report.first_bad_index == ENTRIES - 3 and "truncated" in (report.reason or "")


def test_a_rewritten_and_resigned_history_is_caught_by_a_saved_head(
    filled: Ledger, engine: Engine, signer: TreeHeadSigner
) -> None:
    saved = filled.head_at(10)
    # Rebuilt from scratch by someone holding the key: every entry verifies, only the saved head does not.
    rebuilt = Ledger(engine=engine, name=f"{filled.name}-rebuilt", signer=signer)
    for number in range(ENTRIES):
        rebuilt.append(kind="order.placed", data={"number": number, "note": "rewritten"})
    forged_saved = saved.model_copy(update={"ledger": rebuilt.name})
    assert rebuilt.verify().ok
    report = rebuilt.verify(saved_head=forged_saved)
    assert not report.ok and "signature" in (report.reason or "")  # the name is part of what was signed
    resigned = signer.sign(
        ledger=rebuilt.name, tree_size=10, root_hash=bytes.fromhex(saved.root_hash), timestamp_ms=1
    )
    report = rebuilt.verify(saved_head=resigned)
    assert (
        not report.ok
        and report.first_bad_index == 9
        and "differ from the saved head" in (report.reason or "")
    )


def test_a_saved_head_with_a_bad_signature_is_refused(filled: Ledger) -> None:
    saved = filled.head()
    forged = saved.model_copy(update={"root_hash": "00" * 32})
    report = filled.verify(saved_head=forged)
    assert not report.ok and report.first_bad_index == 0 and "signature" in (report.reason or "")
