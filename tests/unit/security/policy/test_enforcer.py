"""Route-level authorization: every role x resource x action cell, and the store / region scope."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from shopsight.errors import ConfigError
from shopsight.security.policy.enforcer import AccessDenied, DenyReason, PolicyEnforcer
from shopsight.security.policy.principal import AccessRequest, Action, Principal, Resource, Role, Scope
from shopsight.security.policy.shipped import shipped_text

ROLES = ("admin", "analyst", "marketer", "support", "finance", "security", "data_scientist")
# Written out by hand, not read from policy.csv: R read, E export, W write, A admin.
EXPECTED = {
    #                  admin  analyst marketer support finance security data_scientist
    "kpis":            ("R",   "RE",   "RE",    "",     "RE",   "",      "RE"),
    "marts":           ("R",   "RE",   "RE",    "",     "RE",   "",      "RE"),
    "customers":       ("R",   "RE",   "R",     "R",    "R",    "R",     "R"),
    "orders":          ("R",   "RE",   "",      "R",    "RE",   "R",     "R"),
    "products":        ("R",   "RE",   "R",     "R",    "R",    "",      "R"),
    "inventory":       ("R",   "RE",   "",      "R",    "RE",   "",      "R"),
    "quality":         ("RWA", "R",    "",      "",     "R",    "R",     "R"),
    "catalog":         ("RWA", "R",    "R",     "",     "R",    "R",     "R"),
    "audit":           ("",    "",     "",      "",     "",     "REA",   ""),
    "users":           ("RWA", "",     "",      "",     "",     "RA",    ""),
    "keys":            ("",    "",     "",      "",     "",     "RWA",   ""),
    "exports":         ("RA",  "RW",   "RW",    "",     "RW",   "RA",    "RW"),
    "recommendations": ("RWA", "R",    "RW",    "",     "",     "",      "RW"),
    "forecasts":       ("RWA", "R",    "R",     "",     "R",    "",      "RW"),
    "pricing":         ("RWA", "R",    "",      "",     "R",    "",      "RW"),
}  # fmt: skip
LETTERS = {"R": Action.READ, "E": Action.EXPORT, "W": Action.WRITE, "A": Action.ADMIN}
CELLS = [
    (Role(role), Resource(resource), action, letter in EXPECTED[resource][column])
    for resource in EXPECTED
    for column, role in enumerate(ROLES)
    for letter, action in LETTERS.items()
]


@pytest.fixture(scope="module")
def enforcer() -> PolicyEnforcer:
    return PolicyEnforcer.from_package()


def _principal(role: Role = Role.ANALYST, **scope: frozenset[str]) -> Principal:
    return Principal(user_id="u-1", role=role, scope=Scope(**scope))


def test_the_expected_table_names_every_role_resource_and_action() -> None:
    assert tuple(role.value for role in Role) == ROLES
    assert set(EXPECTED) == {resource.value for resource in Resource}
    assert len(CELLS) == len(Role) * len(Resource) * len(Action) == 420


@pytest.mark.parametrize(
    ("role", "resource", "action", "allowed"),
    CELLS,
    ids=[f"{r.value}-{res.value}-{a.value}" for r, res, a, _ in CELLS],
)
def test_every_cell(
    enforcer: PolicyEnforcer, role: Role, resource: Resource, action: Action, allowed: bool
) -> None:
    request = AccessRequest(resource=resource, action=action)
    decision = enforcer.decide(_principal(role), request)
    assert decision.allowed is allowed
    assert decision.reason is (None if allowed else DenyReason.ROLE)
    assert enforcer.role_allows(role, resource, action) is allowed


def test_grants_match_the_cells(enforcer: PolicyEnforcer) -> None:
    for role in Role:
        expected = {(res, act) for r, res, act, allowed in CELLS if r is role and allowed}
        assert enforcer.grants(role) == expected


@pytest.mark.parametrize(
    ("scope", "store", "region", "reason"),
    [
        ({}, "s9", "eu", None),  # empty scope: every store and region
        ({"stores": frozenset({"s1", "s2"})}, "s1", None, None),
        ({"stores": frozenset({"s1", "s2"})}, "s3", None, DenyReason.STORE_SCOPE),
        ({"stores": frozenset({"s1"})}, None, None, None),  # no store asked: the API filters by scope
        ({"regions": frozenset({"eu"})}, None, "eu", None),
        ({"regions": frozenset({"eu"})}, None, "us", DenyReason.REGION_SCOPE),
        ({"stores": frozenset({"s1"}), "regions": frozenset({"eu"})}, "s1", "us", DenyReason.REGION_SCOPE),
        ({"stores": frozenset({"s1"}), "regions": frozenset({"eu"})}, "s2", "eu", DenyReason.STORE_SCOPE),
        ({"stores": frozenset({"s1"}), "regions": frozenset({"eu"})}, "s1", "eu", None),
    ],
)
def test_store_and_region_scope(
    enforcer: PolicyEnforcer,
    scope: dict[str, frozenset[str]],
    store: str | None,
    region: str | None,
    reason: DenyReason | None,
) -> None:
    request = AccessRequest(resource=Resource.KPIS, action=Action.READ, store=store, region=region)
    decision = enforcer.decide(_principal(**scope), request)
    assert decision.allowed is (reason is None)
    assert bool(decision) is (reason is None)
    assert decision.reason is reason


def test_the_role_is_checked_before_the_scope(enforcer: PolicyEnforcer) -> None:
    request = AccessRequest(resource=Resource.KEYS, action=Action.READ, store="s2")
    decision = enforcer.decide(_principal(Role.ANALYST, stores=frozenset({"s1"})), request)
    assert decision.reason is DenyReason.ROLE


def test_enforce_raises_with_the_reason(enforcer: PolicyEnforcer) -> None:
    enforcer.enforce(_principal(), AccessRequest(resource=Resource.KPIS, action=Action.READ))
    with pytest.raises(AccessDenied, match="role support may not read kpis") as denied:
        enforcer.enforce(_principal(Role.SUPPORT), AccessRequest(resource=Resource.KPIS, action=Action.READ))
    assert denied.value.reason == DenyReason.ROLE
    request = AccessRequest(resource=Resource.KPIS, action=Action.READ, store="s2")
    with pytest.raises(AccessDenied, match="store 's2' is outside the scope of u-1") as denied:
        enforcer.enforce(_principal(stores=frozenset({"s1"})), request)
    assert denied.value.reason == DenyReason.STORE_SCOPE


def test_an_unknown_role_cannot_be_a_principal() -> None:
    with pytest.raises(ValueError, match="role"):
        Principal(user_id="u-1", role="superuser")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("p, analist, kpis, read", "unknown role 'analist'"),
        ("p, analyst, kpi, read", "unknown resource 'kpi'"),
        ("p, analyst, kpis, delete", "unknown action 'delete'"),
        ("g, kpi, analytics", "unknown resource 'kpi' in a group"),
    ],
)
def test_a_policy_with_a_typo_is_refused(line: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        PolicyEnforcer(model_text=shipped_text("model.conf"), policy_text=shipped_text("policy.csv") + line)


def test_concurrent_decisions_agree(enforcer: PolicyEnforcer) -> None:
    requests = [(_principal(role), AccessRequest(resource=res, action=act)) for role, res, act, _ in CELLS]
    expected = [allowed for *_, allowed in CELLS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda pair: enforcer.decide(*pair).allowed, requests * 3))
    assert answers == expected * 3
