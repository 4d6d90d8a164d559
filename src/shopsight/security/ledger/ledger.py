"""A named, append-only, tamper-evident ledger of JSON documents: the reusable component.

Each entry is the canonical JSON ``{"data": ..., "kind": ...}``; its UTF-8 bytes are an RFC 6962 Merkle
leaf, and every append stores an Ed25519-signed tree head (size, root, time) beside the entry. The audit
trail is the ledger named ``audit``; order provenance or loyalty points would be ledgers of their own
on the same tables and key::

    ledger = Ledger.for_platform(platform, "audit")
    entry = ledger.append(kind="keys.rotated", data={"version": 3})
    proof = ledger.inclusion_proof(entry.index)
    assert ledger.verify().ok
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

import orjson
from pydantic import JsonValue
from sqlalchemy import Engine

from shopsight.config import path_from_url
from shopsight.errors import ShopSightError
from shopsight.security.ledger.merkle import EMPTY_ROOT, consistency_proof, inclusion_proof
from shopsight.security.ledger.models import ConsistencyProof, InclusionProof, LedgerEntry, VerifyReport
from shopsight.security.ledger.signing import (
    SignedTreeHead,
    TreeHeadSigner,
    TreeHeadVerifier,
    load_ledger_key,
)
from shopsight.security.ledger.store import LedgerStore, StoredEntry
from shopsight.security.ledger.verify import verify_store

if TYPE_CHECKING:
    from shopsight.platform import Platform

Clock = Callable[[], datetime]


class ProofRequestError(ShopSightError):
    """A proof was asked for sizes or indexes the ledger does not have."""


def canonical_json(value: object) -> str:
    """Sorted keys, no whitespace, UTF-8: one text per document, so one leaf hash."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """Append, read, prove and verify one named ledger in the metadata store."""

    def __init__(self, *, engine: Engine, name: str, signer: TreeHeadSigner, clock: Clock = _utc_now) -> None:
        self.name = name
        self.store = LedgerStore(engine, name)
        self._signer = signer
        self._clock = clock

    @classmethod
    def for_platform(cls, platform: Platform, name: str) -> Ledger:
        """The ledger ``name`` in the platform's metadata store, signed with the key beside the keyring."""
        key = load_ledger_key(path_from_url(platform.settings.key_store_url))
        return cls(engine=platform.metadata, name=name, signer=TreeHeadSigner(key))

    @property
    def verifier(self) -> TreeHeadVerifier:
        """The public half: what auditors need to check heads and proofs."""
        return self._signer.verifier

    def append(self, *, kind: str, data: Mapping[str, JsonValue]) -> LedgerEntry:
        """Add one document; durable (committed) when this returns."""
        return self.append_many([(kind, data)])[0]

    def append_many(self, items: Sequence[tuple[str, Mapping[str, JsonValue]]]) -> list[LedgerEntry]:
        """Add ``(kind, data)`` documents in one transaction, each with its own signed tree head."""
        for kind, _ in items:
            if not kind or len(kind) > 200:
                raise ValueError("an entry kind has 1 to 200 characters")
        documents = [(kind, canonical_json({"kind": kind, "data": dict(data)})) for kind, data in items]
        return [self._entry(row) for row in self.store.append(documents, seal=self._seal)]

    def _seal(self, tree_size: int, root_hash: bytes) -> SignedTreeHead:
        timestamp_ms = int(self._clock().timestamp() * 1000)
        return self._signer.sign(
            ledger=self.name, tree_size=tree_size, root_hash=root_hash, timestamp_ms=timestamp_ms
        )

    def _entry(self, row: StoredEntry) -> LedgerEntry:
        parsed = orjson.loads(row.document)
        data = parsed.get("data") if isinstance(parsed, dict) else None
        return LedgerEntry(
            index=row.index, kind=row.kind, data=cast(dict[str, JsonValue], data or {}),
            leaf_hash=row.leaf_hash, tree_head=row.head(self.name, row.index + 1),
        )  # fmt: skip

    def size(self) -> int:
        """Number of entries."""
        return self.store.recorded_size()

    def head(self) -> SignedTreeHead:
        """The latest signed tree head; for an empty ledger a freshly signed head of size 0."""
        size = self.size()
        last = self.store.entry(size - 1) if size else None
        if last is None:
            return self._seal(0, EMPTY_ROOT) if size == 0 else self._missing(size - 1)
        return last.head(self.name, size)

    def head_at(self, tree_size: int) -> SignedTreeHead:
        """The signed head stored for ``tree_size`` entries (1..size)."""
        self._check_size(tree_size, lowest=1)
        row = self.store.entry(tree_size - 1)
        return row.head(self.name, tree_size) if row is not None else self._missing(tree_size - 1)

    def _missing(self, index: int) -> SignedTreeHead:
        raise ProofRequestError(
            f"ledger {self.name!r}: entry {index} is missing; run `shopsight audit verify`"
        )

    def entry(self, index: int) -> LedgerEntry:
        """The entry at ``index``."""
        row = self.store.entry(index)
        if row is None:
            raise ProofRequestError(f"ledger {self.name!r} has no entry {index}")
        return self._entry(row)

    def entries(self, *, offset: int = 0, limit: int = 100, kind: str | None = None) -> list[LedgerEntry]:
        """Entries newest first, optionally only one kind."""
        return [self._entry(row) for row in self.store.page(offset=offset, limit=limit, kind=kind)]

    def count(self, *, kind: str | None = None) -> int:
        """How many entries (of one kind)."""
        return self.store.count(kind=kind)

    def _check_size(self, tree_size: int, *, lowest: int) -> None:
        size = self.size()
        if not lowest <= tree_size <= size:
            raise ProofRequestError(f"tree size {tree_size} is outside {lowest}..{size}")

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> InclusionProof:
        """Audit path of entry ``index`` in the tree of ``tree_size`` entries (default: all)."""
        size = self.size() if tree_size is None else tree_size
        self._check_size(size, lowest=1)
        if not 0 <= index < size:
            raise ProofRequestError(f"entry {index} is outside a tree of {size} entries")
        leaves = self.store.leaf_hashes(size)
        head = self.head_at(size)
        return InclusionProof(
            ledger=self.name, index=index, tree_size=size, leaf_hash=leaves[index].hex(),
            root_hash=head.root_hash, proof=[h.hex() for h in inclusion_proof(leaves, index)], tree_head=head,
        )  # fmt: skip

    def consistency_proof(self, first: int, second: int | None = None) -> ConsistencyProof:
        """Proof that the tree of ``first`` entries is a prefix of the tree of ``second`` (default: all)."""
        size = self.size() if second is None else second
        self._check_size(size, lowest=1)
        if not 1 <= first <= size:
            raise ProofRequestError(f"first size {first} is outside 1..{size}")
        leaves = self.store.leaf_hashes(size)
        first_head, second_head = self.head_at(first), self.head_at(size)
        return ConsistencyProof(
            ledger=self.name, first=first, second=size, first_root=first_head.root_hash,
            second_root=second_head.root_hash, proof=[h.hex() for h in consistency_proof(leaves, first)],
            first_head=first_head, second_head=second_head,
        )  # fmt: skip

    def verify(self, *, saved_head: SignedTreeHead | None = None) -> VerifyReport:
        """Recheck every entry (see :mod:`shopsight.security.ledger.verify`)."""
        return verify_store(self.store, self.verifier, saved_head=saved_head)
