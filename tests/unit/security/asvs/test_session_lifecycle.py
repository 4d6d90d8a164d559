"""Sessions and account state over HTTP (ASVS V3.3, V3.5, V7.2, V7.4, V14.2, V14.3, V15.3).

The real app and login route; each test signs in its own user on one shared app to stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.api.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from shopsight.config import load_settings
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit
from shopsight.security.identity.api_keys import ApiKeyStore
from shopsight.security.identity.service import IdentityService
from shopsight.security.identity.settings import IdentitySettings
from shopsight.security.policy import Role
from shopsight.testing.auth import TEST_PASSWORD, sign_in

LOGIN = "/api/v1/auth/login"
# The cheapest argon2id cost: these tests check session behaviour, not hashing strength.
CHEAP_HASHING = IdentitySettings(argon2_time_cost=1, argon2_memory_cost_kib=8, argon2_parallelism=1)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    home = tmp_path_factory.mktemp("asvs-sessions") / "home"
    built = Platform(load_settings(home=home, identity=CHEAP_HASHING))
    yield built
    built.close()


@pytest.fixture(scope="module")
def app(platform: Platform) -> FastAPI:
    return create_app(platform)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def test_cookies_are_secure_over_tls(app: FastAPI, platform: Platform) -> None:
    """V3.3.1 (Secure), V3.3.2, V3.3.4: over HTTPS both cookies are Secure and SameSite=Strict; the
    session cookie is HttpOnly, the CSRF cookie readable by the page (double submit)."""
    with TestClient(app, base_url="https://testserver") as tls:
        sign_in(tls, platform, Role.MARKETER, email="tls@example.com")
        cookies = {cookie.name: cookie for cookie in tls.cookies.jar}
    session, csrf = cookies[SESSION_COOKIE], cookies[CSRF_COOKIE]
    assert session.secure and csrf.secure
    assert session.has_nonstandard_attr("HttpOnly") and not csrf.has_nonstandard_attr("HttpOnly")
    assert session.get_nonstandard_attr("SameSite") == csrf.get_nonstandard_attr("SameSite") == "strict"
    assert session.path == "/"


def test_each_sign_in_gets_a_new_unguessable_session_secret(client: TestClient, platform: Platform) -> None:
    """V7.2.3, V7.2.4 (new token on authentication), V14.2.1 (secret only in Set-Cookie, not the body)."""
    sign_in(client, platform, Role.ANALYST, email="twice@example.com")
    first = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    answer = client.post(LOGIN, json={"email": "twice@example.com", "password": TEST_PASSWORD})
    second = client.cookies[SESSION_COOKIE]
    assert first != second
    for secret in (first, second):
        assert len(secret) >= 43  # 32 random bytes, base64url: 256 bits
        assert secret not in answer.text  # the body carries the CSRF token only


def test_a_signed_out_session_cannot_be_replayed(client: TestClient, platform: Platform) -> None:
    """V7.4.1: logout ends the session on the server; V14.3.1 (in part): the answer expires both cookies."""
    headers = sign_in(client, platform, Role.ANALYST, email="leaver@example.com")
    stolen = client.cookies[SESSION_COOKIE]
    assert client.get("/api/v1/me").status_code == 200
    answer = client.post("/api/v1/auth/logout", headers=headers)
    assert answer.status_code == 204
    expired = [c for c in answer.headers.get_list("set-cookie") if "Max-Age=0" in c]
    assert {c.split("=", 1)[0] for c in expired} == {SESSION_COOKIE, CSRF_COOKIE}
    client.cookies.set(SESSION_COOKIE, stolen)
    assert client.get("/api/v1/me").status_code == 401


def test_disabling_a_user_ends_their_sessions_and_machine_tokens(
    client: TestClient, platform: Platform
) -> None:
    """V7.4.2 (and V8.2.1): a disabled account's live session and its API key's bearer token stop working."""
    sign_in(client, platform, Role.ANALYST, email="gone@example.com")
    me = client.get("/api/v1/me").json()
    keys = ApiKeyStore(
        metadata=platform.metadata, keyring=platform.privacy.keyring, audit=open_audit(platform)
    )
    api_key, _ = keys.create(owner=me["id"], scopes=["kpis:read"], name="nightly")
    token = client.post("/api/v1/auth/token", json={"api_key": api_key}).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/kpis/metrics", headers=bearer).status_code == 200

    IdentityService.for_platform(platform).disable_user("gone@example.com", actor="asvs-test")

    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/kpis/metrics", headers=bearer).status_code == 401
    assert client.post("/api/v1/auth/token", json={"api_key": api_key}).status_code == 401


def test_every_session_state_change_needs_the_csrf_token(client: TestClient, platform: Platform) -> None:
    """V3.5.1: an admin's browser session cannot create users without echoing the CSRF token."""
    headers = sign_in(client, platform, Role.ADMIN, email="boss@example.com")
    new = {"email": "new.hire@example.com", "role": "analyst", "password": "a long enough passphrase 42"}
    assert client.post("/api/v1/users", json=new).status_code == 403
    assert client.post("/api/v1/users", json=new, headers={CSRF_HEADER: "guessed"}).status_code == 403
    assert client.post("/api/v1/users", json=new, headers=headers).status_code == 201


def test_creating_a_user_cannot_set_fields_it_does_not_own(client: TestClient, platform: Platform) -> None:
    """V15.3.3 (mass assignment): id, state, lock, MFA and hash in the request body are not taken."""
    headers = sign_in(client, platform, Role.ADMIN, email="boss2@example.com")
    sneaky = {
        "email": "sneaky@example.com", "role": "analyst", "password": "a long enough passphrase 43",
        "id": "chosen-id", "disabled": True, "mfa_enabled": True, "password_hash": "$argon2id$forged",
        "locked_until": "2999-01-01T00:00:00Z", "failed_logins": 99,
    }  # fmt: skip
    answer = client.post("/api/v1/users", json=sneaky, headers=headers)
    assert answer.status_code in (201, 422), answer.text
    if answer.status_code == 201:
        created = answer.json()["user"]
        assert created["id"] != "chosen-id" and not created["disabled"] and not created["mfa_enabled"]
        assert created["locked_until"] is None
    client.cookies.clear()
    login = client.post(
        LOGIN, json={"email": "sneaky@example.com", "password": "a long enough passphrase 43"}
    )
    assert login.status_code == (200 if answer.status_code == 201 else 401)


def test_the_api_key_is_exchanged_in_the_body_only(client: TestClient) -> None:
    """V14.2.1: the token endpoint takes no credential from the query string."""
    assert client.post("/api/v1/auth/token?api_key=ss_0123456789abcdef_x").status_code == 422


def test_signed_in_pages_are_never_stored_by_a_cache(client: TestClient, platform: Platform) -> None:
    """V14.2.2, V14.3.2 (pages only): a page with the viewer's name and navigation is ``no-store``."""
    sign_in(client, platform, Role.ANALYST, email="cached@example.com")
    for path in ["/login", "/overview", "/funnel"]:
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store", path
