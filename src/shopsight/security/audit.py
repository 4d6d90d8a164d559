"""The one interface every security-relevant action is reported through.

Identity (logins, MFA changes), authorization (role and policy changes, PII decrypts), key management
(rotations) and the API (exports, admin actions) call an :class:`AuditSink`; the tamper-evident ledger
(``shopsight.security.ledger``) is the sink in production, :class:`RecordingAudit` is the one tests hand in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, JsonValue

# pydantic's own recursive JSON alias: a home-made `list["JsonValue"]` alias sends pydantic into endless
# recursion when it builds the AuditRecord schema (the module could not be imported).
__all__ = ["AuditRecord", "AuditSink", "JsonValue", "RecordingAudit"]


class AuditRecord(BaseModel):
    """One security-relevant action: who did what to which subject, when, and with which details.

    ``action`` is a dotted name such as ``auth.login.failed``, ``mfa.enrolled``, ``role.changed``,
    ``pii.decrypted``, ``export.csv``, ``keys.rotated``. ``details`` never holds secrets or PII in clear.
    """

    model_config = ConfigDict(frozen=True)

    action: str = Field(min_length=1, max_length=200)
    actor: str = Field(min_length=1, max_length=400)  # user id, api key id or "system"
    subject: str | None = None  # what was acted on: a user id, a customer id, a table...
    details: dict[str, JsonValue] = Field(default_factory=dict)
    at: datetime


class AuditSink(Protocol):
    """Where security-relevant actions go. Implementations must be durable before ``record`` returns."""

    def record(
        self,
        *,
        action: str,
        actor: str,
        subject: str | None = None,
        details: Mapping[str, JsonValue] | None = None,
    ) -> AuditRecord:
        """Append one action and return it as stored."""
        ...


class RecordingAudit:
    """An in-memory sink for tests: keeps every record in order."""

    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    def record(
        self,
        *,
        action: str,
        actor: str,
        subject: str | None = None,
        details: Mapping[str, JsonValue] | None = None,
    ) -> AuditRecord:
        """Keep the record in memory."""
        stored = AuditRecord(
            action=action, actor=actor, subject=subject, details=dict(details or {}), at=datetime.now(UTC)
        )
        self.records.append(stored)
        return stored

    def actions(self) -> list[str]:
        """The actions recorded so far, in order."""
        return [r.action for r in self.records]
