"""The seven roles and which of them must sign in with a second factor.

The role enum is the one authorization evaluates (``shopsight.security.policy.principal.Role``): identity
stores a role, the policy grants it actions, so both read the same names.
"""

from __future__ import annotations

from shopsight.security.policy.principal import Role

__all__ = ["PRIVILEGED_ROLES", "Role", "requires_mfa"]

# Roles that administer the platform, see the audit log or touch money: MFA is mandatory for them.
PRIVILEGED_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.SECURITY, Role.FINANCE})


def requires_mfa(role: Role, *, pii_clearance: bool) -> bool:
    """Whether a user with ``role`` (and PII clearance or not) may only sign in with confirmed TOTP."""
    return role in PRIVILEGED_ROLES or pii_clearance
