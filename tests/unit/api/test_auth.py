"""Sign-in, sessions, CSRF, machine tokens, and every role against every API route."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.api.auth import CSRF_HEADER, SESSION_COOKIE
from shopsight.config import load_settings
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit
from shopsight.security.identity.api_keys import ApiKeyStore
from shopsight.security.policy import Role
from shopsight.testing.auth import TEST_PASSWORD, create_user, sign_in

LOGIN = "/api/v1/auth/login"
# Every read route with the permission it needs. On a home with no warehouse or model the routes behind the
# guard answer 404 / 422 / 503, which still proves the guard let the caller through.
ROUTES = {
    "/api/v1/kpis?metrics=orders": "kpis", "/api/v1/kpis/metrics": "kpis", "/api/v1/marts": "marts",
    "/api/v1/marts/kpi_daily": "marts", "/api/v1/quality": "quality", "/api/v1/catalog": "catalog",
    "/api/v1/lineage": "catalog", "/api/v1/customers": "customers", "/api/v1/customers/cus_1": "customers",
    "/api/v1/orders": "orders", "/api/v1/orders/ord_1": "orders", "/api/v1/products": "products",
    "/api/v1/products/prod_1": "products", "/api/v1/inventory": "inventory", "/api/v1/users": "users",
    "/api/v1/audit/head": "audit", "/api/v1/audit/entries": "audit", "/api/v1/audit/proof/inclusion": "audit",
    "/api/v1/audit/proof/consistency": "audit", "/api/v1/recs/users/nobody": "recommendations",
    "/api/v1/recs/items/prod_1/similar": "recommendations",
    "/api/v1/recs/models": "recommendations",
    "/api/v1/forecasts": "forecasts", "/api/v1/forecasts/prod_1": "forecasts",
    "/api/v1/inventory/risk": "inventory", "/api/v1/inventory/replenishment": "inventory",
    "/api/v1/pricing/suggestions": "pricing",
}  # fmt: skip
# Written out by hand from the access matrix (docs/security/access-matrix.md): who may read what.
ENTITIES = {"customers", "orders", "products", "inventory"}
PLAN = {"forecasts", "pricing"}  # demand forecasts and price suggestions (margins: not for marketers)
READS = {
    Role.ADMIN: {"kpis", "marts", "quality", "catalog", "users", "recommendations", *PLAN, *ENTITIES},
    Role.ANALYST: {"kpis", "marts", "quality", "catalog", "recommendations", *PLAN, *ENTITIES},
    Role.MARKETER: {"kpis", "marts", "catalog", "customers", "products", "recommendations", "forecasts"},
    Role.SUPPORT: ENTITIES,
    Role.FINANCE: {"kpis", "marts", "quality", "catalog", *PLAN, *ENTITIES},
    Role.SECURITY: {"quality", "catalog", "users", "customers", "orders", "audit"},
    Role.DATA_SCIENTIST: {"kpis", "marts", "quality", "catalog", "recommendations", *PLAN, *ENTITIES},
}
# Who may download each list as CSV.
EXPORTS = {
    "/api/v1/kpis?metrics=orders": {Role.ANALYST, Role.MARKETER, Role.FINANCE, Role.DATA_SCIENTIST},
    "/api/v1/marts/kpi_daily": {Role.ANALYST, Role.MARKETER, Role.FINANCE, Role.DATA_SCIENTIST},
    "/api/v1/customers": {Role.ANALYST},
    "/api/v1/orders": {Role.ANALYST, Role.FINANCE},
    "/api/v1/products": {Role.ANALYST},
    "/api/v1/inventory": {Role.ANALYST, Role.FINANCE},
    "/api/v1/inventory/replenishment": {Role.ANALYST, Role.FINANCE},
}
# POST routes and who may call them (users: write creates, admin disables / resets MFA).
RECOMMENDERS = {Role.ADMIN, Role.ANALYST, Role.MARKETER, Role.DATA_SCIENTIST}
POSTS = {
    "/api/v1/users": {Role.ADMIN},
    "/api/v1/users/nobody/disable": {Role.ADMIN, Role.SECURITY},
    "/api/v1/users/nobody/reset-mfa": {Role.ADMIN, Role.SECURITY},
    "/api/v1/recs/session": RECOMMENDERS,
    "/api/v1/recs/cart": RECOMMENDERS,
}
# Templated paths as the tables above spell them.
EXAMPLES = {"{name}": "kpi_daily", "{customer_id}": "cus_1", "{order_id}": "ord_1", "{product_id}": "prod_1",
            "{user_id}": "nobody", "{item_id}": "prod_1"}  # fmt: skip


@pytest.fixture
def app_platform(tmp_path: Path) -> Iterator[Platform]:
    platform = Platform(load_settings(home=tmp_path / "home"))
    yield platform
    platform.close()


@pytest.fixture
def client(app_platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(app_platform)) as test_client:
        yield test_client


@pytest.mark.parametrize("path", [*ROUTES, "/api/v1/me"])
def test_every_route_needs_a_signed_in_caller(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401


@pytest.mark.parametrize("role", list(Role))
def test_every_role_against_every_route(client: TestClient, app_platform: Platform, role: Role) -> None:
    csrf = sign_in(client, app_platform, role)
    for path, resource in ROUTES.items():
        status = client.get(path).status_code
        if resource in READS[role]:
            assert status not in (401, 403), (role, path, status)
        else:
            assert status == 403, (role, path, status)
    for path, exporters in EXPORTS.items():
        export = client.get(f"{path}{'&' if '?' in path else '?'}format=csv").status_code
        assert export == (404 if role in exporters else 403), (role, path, export)
    for path, callers in POSTS.items():
        status = client.post(path, json={}, headers=csrf).status_code
        assert (status not in (401, 403)) == (role in callers), (role, path, status)
    me = client.get("/api/v1/me").json()
    assert me["role"] == role.value and ("kpis:read" in me["permissions"]) == ("kpis" in READS[role])


def test_the_access_matrix_covers_every_api_route(client: TestClient) -> None:
    """A new ``/api/v1`` route must join ROUTES or POSTS above, with who may call it."""
    spec = client.get("/openapi.json").json()["paths"]
    tested = {(path.split("?")[0], "get") for path in ROUTES} | {(path, "post") for path in POSTS}
    served = set()
    for template, methods in spec.items():
        if template.startswith("/api/v1/") and not template.startswith(("/api/v1/auth/", "/api/v1/me")):
            path = template
            for placeholder, value in EXAMPLES.items():
                path = path.replace(placeholder, value)
            served |= {(path, method) for method in methods}
    assert served == tested


def test_wrong_password_and_unknown_email_look_the_same(client: TestClient, app_platform: Platform) -> None:
    create_user(app_platform, "ana@example.com", Role.ANALYST)
    wrong = client.post(LOGIN, json={"email": "ana@example.com", "password": "not the password at all"})
    unknown = client.post(LOGIN, json={"email": "nobody@example.com", "password": "not the password at all"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "invalid_credentials"}
    assert SESSION_COOKIE not in client.cookies


def test_mfa_enrolment_then_codes_once_each(client: TestClient, app_platform: Platform) -> None:
    secret = create_user(app_platform, "root@example.com", Role.ADMIN)
    assert secret is not None
    form = {"email": "root@example.com", "password": TEST_PASSWORD}
    assert client.post(LOGIN, json=form).json()["detail"] == "mfa_enrollment_required"
    code = pyotp.TOTP(secret).now()
    first = client.post(LOGIN, json={**form, "code": code})  # the first code confirms the enrolment
    assert first.status_code == 200 and first.json()["user"]["mfa_enabled"] is True
    client.cookies.clear()
    assert client.post(LOGIN, json=form).json()["detail"] == "mfa_required"
    replay = client.post(LOGIN, json={**form, "code": code})
    assert replay.status_code == 401 and replay.json()["detail"] == "invalid_mfa_code"


def test_session_cookie_flags_and_csrf_on_logout(client: TestClient, app_platform: Platform) -> None:
    headers = sign_in(client, app_platform, Role.ANALYST)
    cookie = next(c for c in client.cookies.jar if c.name == SESSION_COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "strict"
    assert client.post("/api/v1/auth/logout").status_code == 403  # no CSRF token
    assert client.post("/api/v1/auth/logout", headers={CSRF_HEADER: "forged"}).status_code == 403
    assert client.post("/api/v1/auth/logout", headers=headers).json() == {"redirect": "/login"}
    assert client.get("/api/v1/me").status_code == 401


def test_an_api_key_buys_a_scoped_short_lived_token(client: TestClient, app_platform: Platform) -> None:
    create_user(app_platform, "bot-owner@example.com", Role.ANALYST)
    owner = client.post(LOGIN, json={"email": "bot-owner@example.com", "password": TEST_PASSWORD}).json()
    client.cookies.clear()
    keys = ApiKeyStore(metadata=app_platform.metadata, keyring=app_platform.privacy.keyring,
                       audit=open_audit(app_platform))  # fmt: skip
    secret, key = keys.create(owner=owner["user"]["id"], scopes=["kpis:read"], name="reporting job")
    token = client.post("/api/v1/auth/token", json={"api_key": secret}).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 900 and token["scope"] == "kpis:read"
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/api/v1/kpis/metrics", headers=bearer).status_code == 200
    assert client.get("/api/v1/marts", headers=bearer).status_code == 403  # the analyst may; the key may not
    keys.revoke(key.id, actor="test")
    assert client.get("/api/v1/kpis/metrics", headers=bearer).status_code == 401
    assert client.post("/api/v1/auth/token", json={"api_key": secret}).status_code == 401
    garbage = {"Authorization": "Bearer not.a.token"}
    assert client.get("/api/v1/kpis/metrics", headers=garbage).status_code == 401
