"""Which :class:`AuditSink` a process writes to: the tamper-evident ledger named ``audit`` in the metadata
store (:class:`~shopsight.security.ledger.LedgerAudit`), committed and signed before ``record`` returns.

The one place commands and the server get their sink from (:func:`open_audit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopsight.security.ledger import AUDIT_LEDGER, Ledger, LedgerAudit

if TYPE_CHECKING:
    from shopsight.platform import Platform


def open_audit(platform: Platform) -> LedgerAudit:
    """The platform's audit sink: the ``audit`` ledger (see ``shopsight audit verify``)."""
    return LedgerAudit(Ledger.for_platform(platform, AUDIT_LEDGER))
