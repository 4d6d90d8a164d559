"""Authorization: route-level RBAC + ABAC (casbin policy plus store / region scope) and field-level masking.

The API builds one :class:`PolicyEnforcer` and one :class:`Masker` at start-up and calls them per request::

    enforcer.enforce(principal, AccessRequest(resource=Resource.CUSTOMERS, action=Action.READ, store="s1"))
    rows = masker.mask_table(table, principal=principal, resource=Resource.CUSTOMERS, purpose=purpose)

``docs/security/access-matrix.md`` shows every role x resource x action and role x field cell.

The names load on first use: the settings need only ``Role``, and the masking code (with pyarrow)
only the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopsight.lazy import lazy_exports

if TYPE_CHECKING:
    from shopsight.security.policy.enforcer import AccessDenied, Decision, DenyReason, PolicyEnforcer
    from shopsight.security.policy.formats import Pseudonymizer
    from shopsight.security.policy.masking import (
        PII_DECRYPT_DENIED,
        PII_DECRYPTED,
        Decrypt,
        Masker,
        RevealRefusal,
    )
    from shopsight.security.policy.matrix import MaskingMatrix, Strategy
    from shopsight.security.policy.principal import AccessRequest, Action, Principal, Resource, Role, Scope

__all__ = [
    "PII_DECRYPTED",
    "PII_DECRYPT_DENIED",
    "AccessDenied",
    "AccessRequest",
    "Action",
    "Decision",
    "Decrypt",
    "DenyReason",
    "Masker",
    "MaskingMatrix",
    "PolicyEnforcer",
    "Principal",
    "Pseudonymizer",
    "Resource",
    "RevealRefusal",
    "Role",
    "Scope",
    "Strategy",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "AccessDenied": "shopsight.security.policy.enforcer",
        "Decision": "shopsight.security.policy.enforcer",
        "DenyReason": "shopsight.security.policy.enforcer",
        "PolicyEnforcer": "shopsight.security.policy.enforcer",
        "Pseudonymizer": "shopsight.security.policy.formats",
        "Decrypt": "shopsight.security.policy.masking",
        "Masker": "shopsight.security.policy.masking",
        "PII_DECRYPTED": "shopsight.security.policy.masking",
        "PII_DECRYPT_DENIED": "shopsight.security.policy.masking",
        "RevealRefusal": "shopsight.security.policy.masking",
        "MaskingMatrix": "shopsight.security.policy.matrix",
        "Strategy": "shopsight.security.policy.matrix",
        "AccessRequest": "shopsight.security.policy.principal",
        "Action": "shopsight.security.policy.principal",
        "Principal": "shopsight.security.policy.principal",
        "Resource": "shopsight.security.policy.principal",
        "Role": "shopsight.security.policy.principal",
        "Scope": "shopsight.security.policy.principal",
    },
)
