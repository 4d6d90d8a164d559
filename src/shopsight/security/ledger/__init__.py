"""Tamper-evident ledgers: RFC 6962 Merkle trees with Ed25519 signed tree heads in the metadata store.

:class:`Ledger` is the reusable component (one per name: ``audit`` today, order provenance or loyalty
points later); :class:`LedgerAudit` is the audit sink on it; :mod:`.merkle` holds the pure hashing and
proofs; :func:`verify_store` names the first entry that does not add up.

The names load on first use: the audit CLI's models need the signing module, not the ledger's SQLAlchemy
tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopsight.lazy import lazy_exports

if TYPE_CHECKING:
    from shopsight.security.ledger.ledger import Ledger, ProofRequestError, canonical_json
    from shopsight.security.ledger.merkle import ProofError, verify_consistency, verify_inclusion
    from shopsight.security.ledger.models import ConsistencyProof, InclusionProof, LedgerEntry, VerifyReport
    from shopsight.security.ledger.signing import SignedTreeHead, TreeHeadSigner, TreeHeadVerifier
    from shopsight.security.ledger.sink import AUDIT_LEDGER, AuditEntry, LedgerAudit, audit_entry
    from shopsight.security.ledger.verify import verify_store

__all__ = [
    "AUDIT_LEDGER",
    "AuditEntry",
    "ConsistencyProof",
    "InclusionProof",
    "Ledger",
    "LedgerAudit",
    "LedgerEntry",
    "ProofError",
    "ProofRequestError",
    "SignedTreeHead",
    "TreeHeadSigner",
    "TreeHeadVerifier",
    "VerifyReport",
    "audit_entry",
    "canonical_json",
    "verify_consistency",
    "verify_inclusion",
    "verify_store",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "Ledger": "shopsight.security.ledger.ledger",
        "ProofRequestError": "shopsight.security.ledger.ledger",
        "canonical_json": "shopsight.security.ledger.ledger",
        "ProofError": "shopsight.security.ledger.merkle",
        "verify_consistency": "shopsight.security.ledger.merkle",
        "verify_inclusion": "shopsight.security.ledger.merkle",
        "ConsistencyProof": "shopsight.security.ledger.models",
        "InclusionProof": "shopsight.security.ledger.models",
        "LedgerEntry": "shopsight.security.ledger.models",
        "VerifyReport": "shopsight.security.ledger.models",
        "SignedTreeHead": "shopsight.security.ledger.signing",
        "TreeHeadSigner": "shopsight.security.ledger.signing",
        "TreeHeadVerifier": "shopsight.security.ledger.signing",
        "AUDIT_LEDGER": "shopsight.security.ledger.sink",
        "AuditEntry": "shopsight.security.ledger.sink",
        "LedgerAudit": "shopsight.security.ledger.sink",
        "audit_entry": "shopsight.security.ledger.sink",
        "verify_store": "shopsight.security.ledger.verify",
    },
)
