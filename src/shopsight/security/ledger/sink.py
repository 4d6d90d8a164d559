"""The audit trail on the ledger: an :class:`~shopsight.security.audit.AuditSink` that appends records.

Each :class:`~shopsight.security.audit.AuditRecord` becomes one entry of the ledger named ``audit`` with
the action as its kind, so the log can be filtered by action and every record is covered by the Merkle
tree and a signed tree head.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from shopsight.security.audit import AuditRecord, JsonValue
from shopsight.security.ledger.ledger import Ledger
from shopsight.security.ledger.models import LedgerEntry

AUDIT_LEDGER = "audit"


class AuditEntry(BaseModel):
    """One audit record as the log shows it: position, who did what to which subject, when, leaf hash."""

    index: int
    action: str
    actor: str
    subject: str | None
    at: datetime
    details: dict[str, JsonValue] = Field(default_factory=dict)
    leaf_hash: str


def audit_entry(entry: LedgerEntry) -> AuditEntry:
    """Read a ledger entry of the audit ledger as an audit record."""
    record = AuditRecord.model_validate(entry.data)
    return AuditEntry(index=entry.index, leaf_hash=entry.leaf_hash, **record.model_dump())


class LedgerAudit:
    """The production audit sink: durable (committed) and covered by a signed tree head on return."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def record(
        self,
        *,
        action: str,
        actor: str,
        subject: str | None = None,
        details: Mapping[str, JsonValue] | None = None,
    ) -> AuditRecord:
        """Append the record to the ledger and return it."""
        stored = AuditRecord(
            action=action, actor=actor, subject=subject, details=dict(details or {}), at=datetime.now(UTC)
        )
        self.ledger.append(kind=action, data=stored.model_dump(mode="json"))
        return stored

    def read(self, *, limit: int | None = None, action: str | None = None) -> list[AuditEntry]:
        """Records oldest first (the newest ``limit`` when given), optionally of one action."""
        count = limit if limit is not None else self.ledger.count(kind=action)
        newest_first = self.ledger.entries(limit=count, kind=action)
        return [audit_entry(entry) for entry in reversed(newest_first)]
