"""Which :class:`AuditSink` a process writes to: for now an append-only JSON-lines file under
``<home>/audit/`` (fsync'd per record, so durable on return).

The one place commands and the server get their sink from, so switching to the tamper-evident ledger is
one edit here (:func:`open_audit`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from shopsight.security.audit import AuditRecord, AuditSink, JsonValue

if TYPE_CHECKING:
    from shopsight.platform import Platform


class JsonlAudit:
    """Appends one JSON line per record to a file created with mode 0600 and fsyncs it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path

    def record(
        self,
        *,
        action: str,
        actor: str,
        subject: str | None = None,
        details: Mapping[str, JsonValue] | None = None,
    ) -> AuditRecord:
        """Append the record and return it once it is on disk."""
        stored = AuditRecord(
            action=action, actor=actor, subject=subject, details=dict(details or {}), at=datetime.now(UTC)
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a") as fh:
            fh.write(stored.model_dump_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return stored

    def read(self) -> list[AuditRecord]:
        """Every record so far, in order."""
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [AuditRecord.model_validate(json.loads(line)) for line in lines if line]


def open_audit(platform: Platform) -> AuditSink:
    """The platform's audit sink: :class:`JsonlAudit` at ``<home>/audit/audit.jsonl``."""
    return JsonlAudit(platform.settings.home.resolve() / "audit" / "audit.jsonl")
