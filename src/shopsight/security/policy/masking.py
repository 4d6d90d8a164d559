"""Field-level dynamic masking of records and Arrow tables, with a purpose-bound, audited PII reveal.

The :class:`Masker` applies the matrix of ``masking.yaml`` for the principal's role to every field of a
query result, a list of dicts or an Arrow table from either warehouse engine. PII is stored encrypted, so
masks that need the value (``j***@example.com``, initials, a pseudonym of an encrypted id) decrypt it in
memory through the ``decrypt`` callable the caller hands in (the privacy layer's ``decrypt_field``): this
module never sees a key, and the user never sees the clear value. Clear PII is a *reveal*: only a user
with PII clearance, in a role allowed to reveal, stating an allowed purpose, gets it, and every record
revealed is reported to the :class:`~shopsight.security.audit.AuditSink` as ``pii.decrypted`` (actor,
subject, fields and purpose; never the values) before the values are returned. A refused reveal is
reported as ``pii.decrypt_denied`` and raises :class:`~shopsight.security.policy.enforcer.AccessDenied`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import pyarrow as pa

from shopsight.entities.classification import Classification
from shopsight.privacy.envelope import is_encrypted
from shopsight.security.audit import AuditSink, JsonValue
from shopsight.security.policy.enforcer import AccessDenied
from shopsight.security.policy.formats import (
    Pseudonymizer,
    initials,
    last4,
    mask_email,
    mask_phone,
    mask_text,
)
from shopsight.security.policy.matrix import FieldSpec, MaskFormat, MaskingMatrix, Strategy
from shopsight.security.policy.principal import Principal, Resource, Role

Decrypt = Callable[[str, str], str]
"""``(ciphertext, field path) -> clear text``, e.g. ``PrivacyGuard.decrypt_field``."""

PII_DECRYPTED = "pii.decrypted"
PII_DECRYPT_DENIED = "pii.decrypt_denied"
_MAX_PURPOSE_CHARS = 100  # a refused purpose is free text from the user: keep the audit record small

_FORMATS: Final[dict[MaskFormat, Callable[[str], str]]] = {
    MaskFormat.EMAIL: mask_email,
    MaskFormat.PHONE: mask_phone,
    MaskFormat.NAME: initials,
    MaskFormat.TEXT: mask_text,
}


class RevealRefusal(StrEnum):
    """Why a request for clear PII was refused."""

    NO_PURPOSE = "no_purpose"
    PURPOSE_NOT_ALLOWED = "purpose_not_allowed"
    NO_PII_CLEARANCE = "no_pii_clearance"
    ROLE_MAY_NOT_REVEAL = "role_may_not_reveal"


class _Dropped:
    """Marks a field that the role does not see at all."""


DROPPED: Final = _Dropped()


@dataclass(frozen=True)
class _FieldPlan:
    """What happens to one field: dropped, kept as is (``transform`` None), or transformed."""

    shown: bool
    transform: Callable[[Any], Any] | None = None
    reveals: bool = False


class Masker:
    """Masks query results for one principal at a time; holds no per-user state between calls."""

    def __init__(
        self, *, matrix: MaskingMatrix, pseudonymizer: Pseudonymizer, decrypt: Decrypt, audit: AuditSink
    ) -> None:
        self._matrix = matrix
        self._pseudonymizer = pseudonymizer
        self._decrypt = decrypt
        self._audit = audit

    def reveal_refusal(self, principal: Principal, purpose: str) -> RevealRefusal | None:
        """Why the principal may not see clear PII for ``purpose``, or None when it may."""
        if not purpose.strip():
            return RevealRefusal.NO_PURPOSE
        if purpose not in self._matrix.purposes:
            return RevealRefusal.PURPOSE_NOT_ALLOWED
        if not principal.pii_clearance:
            return RevealRefusal.NO_PII_CLEARANCE
        if principal.role not in self._matrix.reveal_roles:
            return RevealRefusal.ROLE_MAY_NOT_REVEAL
        return None

    def mask_record(
        self,
        record: Mapping[str, Any],
        *,
        principal: Principal,
        resource: Resource,
        purpose: str | None = None,
    ) -> dict[str, Any]:
        """One record as the principal may see it (``purpose`` asks for clear PII)."""
        return self.mask_records([record], principal=principal, resource=resource, purpose=purpose)[0]

    def mask_records(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        principal: Principal,
        resource: Resource,
        purpose: str | None = None,
    ) -> list[dict[str, Any]]:
        """Records (nested dicts and lists of dicts too) as the principal may see them."""
        view = self._view(principal, resource, purpose)
        masked = []
        for record in records:
            revealed: set[str] = set()
            masked.append(view.mask_mapping(record, "", revealed))
            self._audit_reveal(view, record.get(view.subject_field or ""), revealed)
        return masked

    def mask_table(
        self, table: pa.Table, *, principal: Principal, resource: Resource, purpose: str | None = None
    ) -> pa.Table:
        """An Arrow table as the principal may see it, column by column; columns kept as is stay zero-copy."""
        view = self._view(principal, resource, purpose)
        revealed: list[set[str]] = [set() for _ in range(table.num_rows)]
        names, columns = [], []
        for name in table.column_names:
            column = view.mask_column(name, table.column(name), revealed)
            if column is not None:
                names.append(name)
                columns.append(column)
        subjects = _column_values(table, view.subject_field)
        for subject, fields in zip(subjects, revealed, strict=True):
            self._audit_reveal(view, subject, fields)
        return pa.Table.from_arrays(columns, names=names)

    def _view(self, principal: Principal, resource: Resource, purpose: str | None) -> _View:
        if purpose is not None:
            self._check_reveal(principal, resource, purpose)
        return _View(
            plan_for=lambda path: self._plan(principal.role, resource, purpose, path),
            actor=principal.user_id,
            resource=resource,
            purpose=purpose,
            subject_field=self._matrix.resources[resource].subject,
        )

    def _check_reveal(self, principal: Principal, resource: Resource, purpose: str) -> None:
        refusal = self.reveal_refusal(principal, purpose)
        if refusal is None:
            return
        details: dict[str, JsonValue] = {
            "resource": resource.value, "purpose": purpose[:_MAX_PURPOSE_CHARS], "reason": refusal.value
        }  # fmt: skip
        self._audit.record(action=PII_DECRYPT_DENIED, actor=principal.user_id, details=details)
        raise AccessDenied(f"clear PII refused to {principal.user_id}: {refusal.value}", reason=refusal)

    def _audit_reveal(self, view: _View, subject: Any, fields: set[str]) -> None:
        if not fields:
            return
        details: dict[str, JsonValue] = {
            "resource": view.resource.value, "fields": [*sorted(fields)], "purpose": view.purpose
        }  # fmt: skip
        subject_text = None if subject is None else str(subject)
        self._audit.record(action=PII_DECRYPTED, actor=view.actor, subject=subject_text, details=details)

    def _plan(self, role: Role, resource: Resource, purpose: str | None, path: str) -> _FieldPlan:
        """What one field becomes; ``purpose`` is set only for an allowed reveal."""
        spec, strategy = self._matrix.resolve(role, resource, path)
        revealed = purpose is not None and spec.classification is Classification.PII
        if revealed and strategy is not Strategy.HIDDEN:
            return _FieldPlan(shown=True, transform=lambda value: self._reveal(path, value), reveals=True)
        if not strategy.in_rows:
            return _FieldPlan(shown=False)
        if strategy is Strategy.CLEAR:
            return _FieldPlan(shown=True)
        return _FieldPlan(shown=True, transform=self._masking(path, spec, strategy))

    def _masking(self, path: str, spec: FieldSpec, strategy: Strategy) -> Callable[[Any], str]:
        renders: dict[Strategy, Callable[[str], str]] = {
            Strategy.MASKED: _FORMATS[spec.format],
            Strategy.PSEUDONYMIZED: self._pseudonymizer,
            Strategy.LAST4: last4,
        }
        render = renders[strategy]
        return lambda value: render(self._plain_text(path, value))

    def _plain_text(self, path: str, value: Any) -> str:
        """The value as text, decrypted in memory when stored encrypted (it only feeds a mask)."""
        return self._decrypt(value, path) if is_encrypted(value) else str(value)

    def _reveal(self, path: str, value: Any) -> Any:
        return self._decrypt(value, path) if is_encrypted(value) else value


class _View:
    """One masking call: the principal's role on one resource, the granted purpose, plans per path."""

    def __init__(
        self,
        *,
        plan_for: Callable[[str], _FieldPlan],
        actor: str,
        resource: Resource,
        purpose: str | None,
        subject_field: str | None,
    ) -> None:
        self._plan_for = plan_for
        self._plans: dict[str, _FieldPlan] = {}
        self.actor = actor
        self.resource = resource
        self.purpose = purpose  # set only once the reveal was allowed
        self.subject_field = subject_field

    def plan(self, path: str) -> _FieldPlan:
        """The plan of one field path, computed once per call."""
        if path not in self._plans:
            self._plans[path] = self._plan_for(path)
        return self._plans[path]

    def mask_mapping(self, record: Mapping[str, Any], prefix: str, revealed: set[str]) -> dict[str, Any]:
        """A dict with every field masked; fields the role does not see are left out."""
        out: dict[str, Any] = {}
        for key, value in record.items():
            masked = self.mask_value(f"{prefix}.{key}" if prefix else key, value, revealed)
            if masked is not DROPPED:
                out[key] = masked
        return out

    def mask_value(self, path: str, value: Any, revealed: set[str]) -> Any:
        """One value masked: nested dicts and lists of dicts field by field, lists of scalars item by item."""
        if isinstance(value, Mapping):
            return self.mask_mapping(value, path, revealed)
        if isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
            return [self.mask_mapping(item, path, revealed) for item in value]
        plan = self.plan(path)
        if not plan.shown:
            return DROPPED
        if value is None or plan.transform is None:
            return value
        if plan.reveals:
            revealed.add(path)
        if isinstance(value, list):
            return [None if item is None else plan.transform(item) for item in value]
        return plan.transform(value)

    def mask_column(
        self, name: str, column: pa.ChunkedArray, revealed: list[set[str]]
    ) -> pa.ChunkedArray | pa.Array | None:
        """One Arrow column masked (None when the role does not see it)."""
        if pa.types.is_nested(column.type):
            return self._mask_nested_column(name, column, revealed)
        plan = self.plan(name)
        if not plan.shown:
            return None
        if plan.transform is None:
            return column
        rows = zip(column.to_pylist(), revealed, strict=True)
        return pa.array([self.mask_value(name, value, fields) for value, fields in rows])

    def _mask_nested_column(self, name: str, column: pa.ChunkedArray, revealed: list[set[str]]) -> pa.Array:
        # Struct and list columns go value by value; a leaf the role does not see becomes null.
        rows = zip(column.to_pylist(), revealed, strict=True)
        values = [self.mask_value(name, value, fields) for value, fields in rows]
        return pa.array([None if value is DROPPED else value for value in values])


def _column_values(table: pa.Table, name: str | None) -> list[Any]:
    """The values of one column, or None per row when the table has no such column."""
    if name is None or name not in table.column_names:
        return [None] * table.num_rows
    values: list[Any] = table.column(name).to_pylist()
    return values
