"""Route-level authorization: casbin answers the role question, typed Python the attribute questions.

Casbin (``model.conf`` + ``policy.csv``, loaded into its ``SyncedEnforcer``) decides whether a role may do an
action on a resource. Roles, resources and actions are closed enums (7 x 14 x 4 = 392 cells), so every cell
is evaluated once at load and requests are answered from that immutable snapshot. That is exact, costs
nothing per request, and is what makes concurrent checks safe: casbin's ``enforce`` takes only a read lock
and compiles the matcher with ``ast`` on every call, and concurrent ``ast`` compilation can raise
``SystemError: AST constructor recursion depth mismatch`` on Python < 3.13 (CPython gh-106905). A policy
change means building a new enforcer and swapping the reference.

The store / region scope is checked here in Python rather than in the casbin matcher: the matcher language
is an untyped string evaluated at run time, "an empty scope means all" reads awkwardly in it, and a boolean
from casbin cannot say *why* a request was refused, which the API's 403 message and the audit record want.
PII clearance is a field-level question and lives in :mod:`shopsight.security.policy.masking`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from itertools import product

import casbin  # type: ignore[import-untyped]
from casbin.persist.adapters.string_adapter import StringAdapter  # type: ignore[import-untyped]

from shopsight.errors import ConfigError, ShopSightError
from shopsight.security.policy.principal import AccessRequest, Action, Principal, Resource, Role
from shopsight.security.policy.shipped import shipped_text


class DenyReason(StrEnum):
    """Why a request was refused."""

    ROLE = "role"  # the role may not do this action on this resource
    STORE_SCOPE = "store_scope"  # the store asked for is outside the user's stores
    REGION_SCOPE = "region_scope"  # the region asked for is outside the user's regions


@dataclass(frozen=True)
class Decision:
    """The answer to one access request; truthy when allowed."""

    allowed: bool
    reason: DenyReason | None = None

    def __bool__(self) -> bool:
        return self.allowed


class AccessDenied(ShopSightError):
    """The principal may not do what it asked (the API answers 403)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


ALLOWED = Decision(allowed=True)


class PolicyEnforcer:
    """Answers access requests from a casbin model and policy (by default the ones shipped here)."""

    def __init__(self, *, model_text: str, policy_text: str) -> None:
        model = casbin.model.Model()
        model.load_model_from_text(model_text)
        engine = casbin.SyncedEnforcer(model, StringAdapter(policy_text))
        _check_policy_names(engine)
        cells = product(Role, Resource, Action)
        self._granted = frozenset(cell for cell in cells if engine.enforce(*(part.value for part in cell)))

    @classmethod
    def from_package(cls) -> PolicyEnforcer:
        """The enforcer of the shipped ``model.conf`` and ``policy.csv``."""
        return cls(model_text=shipped_text("model.conf"), policy_text=shipped_text("policy.csv"))

    def role_allows(self, role: Role, resource: Resource, action: Action) -> bool:
        """Whether the role alone grants the action (no attribute checks)."""
        return (role, resource, action) in self._granted

    def decide(self, principal: Principal, request: AccessRequest) -> Decision:
        """Role first, then the store and region scope."""
        if not self.role_allows(principal.role, request.resource, request.action):
            return Decision(allowed=False, reason=DenyReason.ROLE)
        if not principal.scope.allows_store(request.store):
            return Decision(allowed=False, reason=DenyReason.STORE_SCOPE)
        if not principal.scope.allows_region(request.region):
            return Decision(allowed=False, reason=DenyReason.REGION_SCOPE)
        return ALLOWED

    def enforce(self, principal: Principal, request: AccessRequest) -> None:
        """Raise :class:`AccessDenied` unless :meth:`decide` allows the request."""
        decision = self.decide(principal, request)
        if not decision.allowed:
            assert decision.reason is not None
            raise AccessDenied(_denial_message(principal, request, decision.reason), reason=decision.reason)

    def grants(self, role: Role) -> frozenset[tuple[Resource, Action]]:
        """Every (resource, action) the role may do, resolved through the resource groups."""
        return frozenset((resource, action) for granted, resource, action in self._granted if granted is role)


def _denial_message(principal: Principal, request: AccessRequest, reason: DenyReason) -> str:
    target = f"{request.action.value} {request.resource.value}"
    if reason is DenyReason.STORE_SCOPE:
        return f"store {request.store!r} is outside the scope of {principal.user_id}"
    if reason is DenyReason.REGION_SCOPE:
        return f"region {request.region!r} is outside the scope of {principal.user_id}"
    return f"role {principal.role.value} may not {target}"


def _check_policy_names(enforcer: casbin.SyncedEnforcer) -> None:
    """Refuse a policy naming an unknown role, resource, group or action (a typo would silently deny)."""
    groups = {str(group) for _, group in enforcer.get_grouping_policy()}
    members = {str(member) for member, _ in enforcer.get_grouping_policy()}
    known_objects = {r.value for r in Resource} | groups
    problems = [f"unknown resource {m!r} in a group" for m in sorted(members - {r.value for r in Resource})]
    for role, obj, action in enforcer.get_policy():
        if role not in {r.value for r in Role}:
            problems.append(f"unknown role {role!r}")
        if obj not in known_objects:
            problems.append(f"unknown resource {obj!r}")
        if action not in {a.value for a in Action}:
            problems.append(f"unknown action {action!r}")
    if problems:
        raise ConfigError("access policy: " + "; ".join(problems))
