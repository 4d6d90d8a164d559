"""Re-derive a ledger from its rows and name the first entry that does not add up.

The check trusts nothing stored except the documents themselves: it rehashes every document, rebuilds the
Merkle root entry by entry (O(log n) memory) and checks each stored tree head against the recomputed root,
the entry's position and the ledger's public key. So a modified document, a removed, inserted or reordered
entry, and a forged or corrupted signature all surface at the first index they touch.

What it cannot see alone: cutting entries off the *end* together with their heads (and fixing the head
row) leaves a shorter ledger that is internally perfect. That is what a head saved elsewhere is for —
``verify(saved_head=...)`` (``shopsight audit verify --head FILE``) checks that the ledger still contains
the tree the saved head signed, i.e. that the saved tree is a prefix of today's (RFC 6962 consistency).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from shopsight.security.ledger.merkle import CompactRange, hash_leaf
from shopsight.security.ledger.models import VerifyReport
from shopsight.security.ledger.signing import SignedTreeHead, TreeHeadVerifier
from shopsight.security.ledger.store import LedgerStore, StoredEntry


@dataclass
class _Walk:
    """The state of one pass: the rebuilt tree, and the root at the saved head's size if asked."""

    frontier: CompactRange = field(default_factory=CompactRange)
    root_at_saved_size: bytes | None = None


class _Bad(Exception):
    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index, self.reason = index, reason


def verify_store(
    store: LedgerStore, verifier: TreeHeadVerifier, *, saved_head: SignedTreeHead | None = None
) -> VerifyReport:
    """Check every entry of ``store`` (and consistency with ``saved_head``); the first failure wins."""
    walk = _Walk()
    try:
        _check_saved_head_signature(store.name, verifier, saved_head)
        for row in store.scan():
            walk.frontier = _check_entry(store.name, verifier, walk.frontier, row)
            if saved_head is not None and walk.frontier.size == saved_head.tree_size:
                walk.root_at_saved_size = walk.frontier.root()
        _check_head_row(store, walk.frontier.size)
        _check_against_saved_head(walk, saved_head)
    except _Bad as bad:
        return _report(store.name, walk, saved_head, bad)
    return _report(store.name, walk, saved_head, None)


def _check_entry(
    ledger: str, verifier: TreeHeadVerifier, frontier: CompactRange, row: StoredEntry
) -> CompactRange:
    """The tree grown by ``row``, or :class:`_Bad` naming what is wrong with it."""
    index = frontier.size
    if row.index != index:
        raise _Bad(index, f"entry {index} is missing (the next stored entry is {row.index})")
    leaf = hash_leaf(row.document.encode())
    if leaf.hex() != row.leaf_hash:
        raise _Bad(index, "the entry's document was modified (its hash differs from the stored leaf hash)")
    if _kind_of(row.document) != row.kind:
        raise _Bad(index, "the entry's kind column does not match its document")
    grown = CompactRange(frontier.size, frontier.hashes())
    grown.append(leaf)
    if grown.root().hex() != row.root_hash:
        raise _Bad(index, "the ledger up to this entry does not match its signed tree head "
                          "(an entry was modified, inserted, removed or reordered here)")  # fmt: skip
    if row.key_id != verifier.key_id:
        raise _Bad(
            index, f"the tree head is signed by key {row.key_id}, not the ledger key {verifier.key_id}"
        )
    if not verifier.is_valid(row.head(ledger, grown.size)):
        raise _Bad(index, "the tree head signature is invalid")
    return grown


def _kind_of(document: str) -> str | None:
    try:
        parsed = orjson.loads(document)
    except orjson.JSONDecodeError:
        return None
    kind = parsed.get("kind") if isinstance(parsed, dict) else None
    return kind if isinstance(kind, str) else None


def _check_head_row(store: LedgerStore, size: int) -> None:
    recorded = store.recorded_size()
    if recorded > size:
        raise _Bad(size, f"entries {size}..{recorded - 1} are missing (the head row records {recorded})")
    if recorded < size:
        raise _Bad(
            recorded, f"entries from {recorded} on were added outside the ledger (head row: {recorded})"
        )


def _check_saved_head_signature(
    ledger: str, verifier: TreeHeadVerifier, saved: SignedTreeHead | None
) -> None:
    if saved is None:
        return
    if saved.ledger != ledger:
        raise _Bad(0, f"the saved head belongs to ledger {saved.ledger!r}, not {ledger!r}")
    if not verifier.is_valid(saved):
        raise _Bad(0, "the saved tree head's signature is invalid (not signed by this ledger's key)")


def _check_against_saved_head(walk: _Walk, saved: SignedTreeHead | None) -> None:
    if saved is None or saved.tree_size == 0:
        return
    size = walk.frontier.size
    if saved.tree_size > size:
        raise _Bad(size, f"the ledger was truncated: the saved head covers {saved.tree_size} entries, "
                         f"the ledger has {size}")  # fmt: skip
    if walk.root_at_saved_size is None or walk.root_at_saved_size.hex() != saved.root_hash:
        raise _Bad(saved.tree_size - 1, f"the first {saved.tree_size} entries differ from the saved head "
                                        "(the ledger was rewritten and re-signed)")  # fmt: skip


def _report(ledger: str, walk: _Walk, saved: SignedTreeHead | None, bad: _Bad | None) -> VerifyReport:
    frontier = walk.frontier  # only ever holds entries that checked out
    return VerifyReport(
        ledger=ledger, ok=bad is None, entries_checked=frontier.size, tree_size=frontier.size,
        root_hash=frontier.root().hex(), first_bad_index=None if bad is None else bad.index,
        reason=None if bad is None else bad.reason,
        saved_head_size=None if saved is None else saved.tree_size,
    )  # fmt: skip
