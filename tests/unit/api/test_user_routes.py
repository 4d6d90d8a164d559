"""``/api/v1/users``: admins create, list, disable users and reset MFA; CSRF-protected and audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.config import load_settings
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit
from shopsight.security.identity.settings import IdentitySettings
from shopsight.security.policy import Role
from shopsight.testing.auth import TEST_PASSWORD, sign_in

USERS = "/api/v1/users"
# Cheap hashing: these tests are about the routes, not argon2's cost.
FAST_HASHING = IdentitySettings(argon2_time_cost=1, argon2_memory_cost_kib=1024, argon2_parallelism=1)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    built = Platform(load_settings(home=tmp_path / "home", identity=FAST_HASHING))
    yield built
    built.close()


@pytest.fixture
def client(platform: Platform) -> TestClient:
    return TestClient(create_app(platform))


def _new(email: str, role: str, **extra: object) -> dict[str, object]:
    return {"email": email, "role": role, "password": TEST_PASSWORD, **extra}


def test_an_admin_creates_lists_disables_and_resets_mfa(client: TestClient, platform: Platform) -> None:
    csrf = sign_in(client, platform, Role.ADMIN)
    admin_id = client.get("/api/v1/me").json()["id"]
    plain = client.post(USERS, json=_new("ana@example.com", "analyst"), headers=csrf)
    assert plain.status_code == 201, plain.text
    assert plain.json()["totp_provisioning_uri"] is None and plain.json()["user"]["mfa_required"] is False
    privileged = client.post(USERS, json=_new("sam@example.com", "support", pii_clearance=True), headers=csrf)
    body = privileged.json()
    assert body["totp_provisioning_uri"].startswith("otpauth://totp/") and len(body["recovery_codes"]) >= 8
    assert body["user"]["mfa_required"] is True and body["user"]["mfa_enabled"] is False
    listed = {user["email"]: user for user in client.get(USERS).json()}
    assert set(listed) == {"admin@example.com", "ana@example.com", "sam@example.com"}
    assert all("password_hash" not in user and "totp_secret" not in user for user in listed.values())
    ana = plain.json()["user"]["id"]
    assert client.post(f"{USERS}/{ana}/disable", headers=csrf).json()["disabled"] is True
    signed_in = client.post(
        "/api/v1/auth/login", json={"email": "ana@example.com", "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 401
    reset = client.post(f"{USERS}/{body['user']['id']}/reset-mfa", headers=csrf)
    assert reset.status_code == 200 and reset.json()["mfa_enabled"] is False
    audit = open_audit(platform)
    assert [(r.actor, r.subject) for r in audit.read(action="user.disabled")] == [(admin_id, ana)]
    created = [r.subject for r in audit.read(action="user.created") if r.actor == admin_id]
    assert created == [ana, body["user"]["id"]]
    assert [r.actor for r in audit.read(action="mfa.reset")] == [admin_id]


def test_state_changes_need_the_csrf_token(client: TestClient, platform: Platform) -> None:
    sign_in(client, platform, Role.ADMIN)
    answer = client.post(USERS, json=_new("ana@example.com", "analyst"))
    assert answer.status_code == 403 and "X-CSRF-Token" in answer.json()["detail"]
    forged = client.post(USERS, json=_new("ana@example.com", "analyst"), headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    assert "ana@example.com" not in {user["email"] for user in client.get(USERS).json()}


@pytest.mark.parametrize(
    ("form", "status", "says"),
    [
        (_new("admin@example.com", "analyst"), 409, "exists"),
        ({**_new("weak@example.com", "analyst"), "password": "short"}, 400, "password"),
        (_new("not-an-address", "analyst"), 422, "e-mail"),
        (_new("x@example.com", "emperor"), 422, "role"),
    ],
)
def test_bad_new_users_get_a_clear_4xx(
    client: TestClient, platform: Platform, form: dict[str, object], status: int, says: str
) -> None:
    csrf = sign_in(client, platform, Role.ADMIN)
    answer = client.post(USERS, json=form, headers=csrf)
    assert answer.status_code == status and says in answer.text, answer.text


def test_unknown_user_is_404(client: TestClient, platform: Platform) -> None:
    csrf = sign_in(client, platform, Role.ADMIN)
    assert client.post(f"{USERS}/nobody/disable", headers=csrf).status_code == 404
    assert client.post(f"{USERS}/nobody/reset-mfa", headers=csrf).status_code == 404


def test_security_may_disable_but_not_create_and_others_may_not_list(
    client: TestClient, platform: Platform
) -> None:
    csrf = sign_in(client, platform, Role.SECURITY)
    me = client.get("/api/v1/me").json()["id"]
    assert client.get(USERS).status_code == 200
    assert client.post(USERS, json=_new("ana@example.com", "analyst"), headers=csrf).status_code == 403
    assert client.post(f"{USERS}/{me}/reset-mfa", headers=csrf).status_code == 200
    client.cookies.clear()
    sign_in(client, platform, Role.ANALYST)
    assert client.get(USERS).status_code == 403
