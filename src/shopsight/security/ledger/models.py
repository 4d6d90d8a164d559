"""What the ledger hands out: entries, proofs and verification reports (pydantic, so the API shows them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from shopsight.security.ledger.signing import SignedTreeHead


class LedgerEntry(BaseModel):
    """One entry: its kind and data, its leaf hash and the signed tree head right after it."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(ge=0)
    kind: str
    data: dict[str, JsonValue]
    leaf_hash: str = Field(description='SHA-256(0x00 || canonical JSON {"data": ..., "kind": ...}), hex.')
    tree_head: SignedTreeHead


class InclusionProof(BaseModel):
    """RFC 6962 audit path of one entry in the tree of ``tree_size`` entries."""

    ledger: str
    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str] = Field(description="Sibling hashes from the leaf up, hex.")
    tree_head: SignedTreeHead = Field(description="The signed head for tree_size, vouching for root_hash.")


class ConsistencyProof(BaseModel):
    """RFC 6962 proof that the tree of ``first`` entries is a prefix of the tree of ``second``."""

    ledger: str
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str] = Field(description="Subtree hashes per RFC 6962 2.1.2, hex.")
    first_head: SignedTreeHead
    second_head: SignedTreeHead


class VerifyReport(BaseModel):
    """Outcome of a full ledger check; ``first_bad_index`` and ``reason`` are set when it failed."""

    ledger: str
    ok: bool
    entries_checked: int
    tree_size: int = Field(description="Size of the verified prefix (all entries when ok).")
    root_hash: str = Field(description="Root of the verified prefix, hex.")
    first_bad_index: int | None = None
    reason: str | None = None
    saved_head_size: int | None = Field(default=None, description="Size of the --head checked against.")
