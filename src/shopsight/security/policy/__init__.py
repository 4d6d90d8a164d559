"""Authorization: route-level RBAC + ABAC (casbin policy plus store / region scope) and field-level masking.

The API builds one :class:`PolicyEnforcer` and one :class:`Masker` at start-up and calls them per request::

    enforcer.enforce(principal, AccessRequest(resource=Resource.CUSTOMERS, action=Action.READ, store="s1"))
    rows = masker.mask_table(table, principal=principal, resource=Resource.CUSTOMERS, purpose=purpose)

``docs/security/access-matrix.md`` shows every role x resource x action and role x field cell.
"""

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
