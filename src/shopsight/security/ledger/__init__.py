"""Tamper-evident ledgers: RFC 6962 Merkle trees with Ed25519 signed tree heads in the metadata store.

:class:`Ledger` is the reusable component (one per name: ``audit`` today, order provenance or loyalty
points later); :class:`LedgerAudit` is the audit sink on it; :mod:`.merkle` holds the pure hashing and
proofs; :func:`verify_store` names the first entry that does not add up.
"""

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
