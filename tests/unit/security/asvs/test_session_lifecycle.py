"""Sessions and account state over HTTP (ASVS V3.3, V3.5, V7.2, V7.4, V14.2, V14.3, V15.3).

The real app and login route; each test signs in its own user on one shared app to stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.api.auth import CSRF_COOKIE, CSRF_HEADER, HOST_PREFIX, SESSION_COOKIE
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
    """V3.3.1 (Secure, __Host- prefix), V3.3.2, V3.3.3, V3.3.4: over HTTPS both cookies are named
    __Host-..., Secure, Path=/ with no Domain, SameSite=Strict; the session cookie is HttpOnly, the CSRF
    cookie readable by the page. Only the __Host- cookie is read there: a bare one proves nothing."""
    with TestClient(app, base_url="https://testserver") as tls:
        sign_in(tls, platform, Role.MARKETER, email="tls@example.com")
        cookies = {cookie.name: cookie for cookie in tls.cookies.jar}
        assert set(cookies) == {f"{HOST_PREFIX}{SESSION_COOKIE}", f"{HOST_PREFIX}{CSRF_COOKIE}"}
        secret = cookies[f"{HOST_PREFIX}{SESSION_COOKIE}"].value or ""
        assert tls.get("/api/v1/me").status_code == 200
        tls.cookies.clear()
        tls.cookies.set(f"{HOST_PREFIX}{SESSION_COOKIE}", secret, domain="testserver.local", path="/")
        assert tls.get("/api/v1/me").status_code == 200
        tls.cookies.clear()  # the same secret under the bare name is not read over TLS
        tls.cookies.set(SESSION_COOKIE, secret, domain="testserver.local", path="/")
        assert tls.get("/api/v1/me").status_code == 401
    session, csrf = cookies[f"{HOST_PREFIX}{SESSION_COOKIE}"], cookies[f"{HOST_PREFIX}{CSRF_COOKIE}"]
    assert session.secure and csrf.secure
    assert session.path == csrf.path == "/" and not session.domain_specified and not csrf.domain_specified
    assert session.has_nonstandard_attr("HttpOnly") and not csrf.has_nonstandard_attr("HttpOnly")
    assert session.get_nonstandard_attr("SameSite") == csrf.get_nonstandard_attr("SameSite") == "strict"


def test_plain_http_keeps_bare_cookie_names_for_local_runs(client: TestClient, platform: Platform) -> None:
    """``make run`` serves http://127.0.0.1, where browsers refuse __Host- cookies (they must be Secure):
    there the cookies keep their bare names and are not Secure, and sign-in works."""
    sign_in(client, platform, Role.MARKETER, email="plain@example.com")
    cookies = {cookie.name: cookie for cookie in client.cookies.jar}
    assert set(cookies) == {SESSION_COOKIE, CSRF_COOKIE}
    assert not cookies[SESSION_COOKIE].secure and cookies[SESSION_COOKIE].path == "/"
    assert client.get("/api/v1/me").status_code == 200


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
    assert answer.status_code == 200 and answer.json() == {"redirect": "/login"}
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


def _second_browser(app: FastAPI, email: str, password: str = TEST_PASSWORD) -> TestClient:
    """Another browser signing the same (password-only) user in."""
    other = TestClient(app, headers={"User-Agent": FIREFOX_ON_WINDOWS})
    assert other.post(LOGIN, json={"email": email, "password": password}).status_code == 200
    return other


FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"


def test_a_planted_or_earlier_session_never_survives_sign_in(client: TestClient, platform: Platform) -> None:
    """V7.2.4, V3.3 session fixation: signing in issues a fresh secret and ends the one the browser sent,
    whether an attacker planted it (unknown to the server) or it was a live session of its own."""
    planted = "planted-by-an-attacker-0123456789abcdef0123456"
    client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local", path="/")
    sign_in(client, platform, Role.ANALYST, email="fixated@example.com")
    first = client.cookies[SESSION_COOKIE]
    assert first != planted
    again = client.post(LOGIN, json={"email": "fixated@example.com", "password": TEST_PASSWORD})
    assert again.status_code == 200
    second = client.cookies[SESSION_COOKIE]
    assert second != first
    with TestClient(client.app) as replay:
        for stale in (planted, first):
            replay.cookies.set(SESSION_COOKIE, stale)
            assert replay.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 200


def test_users_list_and_end_their_own_sessions(app: FastAPI, client: TestClient, platform: Platform) -> None:
    """V7.5.2, V7.4.3 (the option to end other sessions), V7.1.2: a user sees their live sessions (start,
    last use, browser summary, address) and ends one or all others; CSRF-protected and audited."""
    headers = sign_in(client, platform, Role.ANALYST, email="many@example.com")
    laptop, tablet = _second_browser(app, "many@example.com"), _second_browser(app, "many@example.com")
    sign_in(TestClient(app), platform, Role.ANALYST, email="stranger@example.com")
    listed = client.get("/api/v1/me/sessions").json()
    assert len(listed) == 3 and [s["current"] for s in listed].count(True) == 1
    assert {s["user_agent"] for s in listed} >= {"Firefox on Windows"}
    assert all(s["ip"] == "testclient" and s["created_at"] and s["last_seen_at"] for s in listed)
    laptop_id = next(s["id"] for s in laptop.get("/api/v1/me/sessions").json() if s["current"])
    assert client.delete(f"/api/v1/me/sessions/{laptop_id}").status_code == 403  # no CSRF token
    assert client.delete(f"/api/v1/me/sessions/{laptop_id}", headers=headers).status_code == 204
    assert laptop.get("/api/v1/me").status_code == 401 and tablet.get("/api/v1/me").status_code == 200
    assert client.delete(f"/api/v1/me/sessions/{laptop_id}", headers=headers).status_code == 404
    ended = client.delete("/api/v1/me/sessions", headers=headers)
    assert ended.status_code == 200 and ended.json() == {"ended": 1}
    assert tablet.get("/api/v1/me").status_code == 401 and client.get("/api/v1/me").status_code == 200
    assert [s["current"] for s in client.get("/api/v1/me/sessions").json()] == [True]
    actions = [entry.action for entry in open_audit(platform).read() if entry.subject == _id(client)]
    assert actions[-2:] == ["session.revoked", "sessions.revoked"]


def _id(client: TestClient) -> str:
    return str(client.get("/api/v1/me").json()["id"])


def test_nobody_ends_another_users_session(app: FastAPI, client: TestClient, platform: Platform) -> None:
    """V8.2.2 for sessions: a session id of someone else is answered as unknown, and stays alive."""
    victim = TestClient(app)
    sign_in(victim, platform, Role.ANALYST, email="victim@example.com")
    victim_session = victim.get("/api/v1/me/sessions").json()[0]["id"]
    headers = sign_in(client, platform, Role.ANALYST, email="attacker@example.com")
    assert client.delete(f"/api/v1/me/sessions/{victim_session}", headers=headers).status_code == 404
    assert client.delete("/api/v1/me/sessions", headers=headers).json() == {"ended": 0}
    assert victim.get("/api/v1/me").status_code == 200


def test_a_machine_token_has_no_sessions_to_manage(client: TestClient, platform: Platform) -> None:
    """Session routes need a browser session: without the cookie they answer 401."""
    sign_in(client, platform, Role.ANALYST, email="botowner@example.com")
    client.cookies.clear()
    assert client.get("/api/v1/me/sessions").status_code == 401
    assert client.delete("/api/v1/me/sessions").status_code == 401


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    app: FastAPI, client: TestClient, platform: Platform
) -> None:
    """V6.2.2, V6.2.3, V7.4.3: a user changes their password with the current one; the policy applies to
    the new one; the other sessions end, this one stays, and only the new password signs in."""
    headers = sign_in(client, platform, Role.ANALYST, email="changer@example.com")
    other = _second_browser(app, "changer@example.com")
    new = "a fresh and long pass phrase 77"
    change = {"current_password": TEST_PASSWORD, "new_password": new}
    assert client.post("/api/v1/me/password", json=change).status_code == 403  # no CSRF token
    wrong = client.post("/api/v1/me/password", json={**change, "current_password": "not it at all"},
                        headers=headers)  # fmt: skip
    assert wrong.status_code == 403
    weak = client.post(
        "/api/v1/me/password", json={**change, "new_password": "1qaz2wsx3edc"}, headers=headers
    )
    assert weak.status_code == 400 and "most common passwords" in weak.json()["detail"]
    assert other.get("/api/v1/me").status_code == 200  # failed attempts change nothing
    assert client.post("/api/v1/me/password", json=change, headers=headers).status_code == 204
    assert client.get("/api/v1/me").status_code == 200 and other.get("/api/v1/me").status_code == 401
    with TestClient(app) as fresh:
        old = fresh.post(LOGIN, json={"email": "changer@example.com", "password": TEST_PASSWORD})
        assert old.status_code == 401
        assert fresh.post(LOGIN, json={"email": "changer@example.com", "password": new}).status_code == 200
    assert [e.action for e in open_audit(platform).read(action="password.changed")] == ["password.changed"]


def test_resetting_mfa_or_the_password_ends_every_session_of_the_user(
    app: FastAPI, client: TestClient, platform: Platform
) -> None:
    """V7.4.3, V7.4.5, V6.4.3 (in part): an admin's reset-mfa (users API) and reset-password (identity
    service, as the CLI calls it) end all the user's sessions; the admin's own session stays."""
    headers = sign_in(client, platform, Role.ADMIN, email="resetter@example.com")
    user = TestClient(app)
    sign_in(user, platform, Role.ANALYST, email="reset.me@example.com")
    user_id = _id(user)
    assert client.post(f"/api/v1/users/{user_id}/reset-mfa", headers=headers).status_code == 200
    assert user.get("/api/v1/me").status_code == 401 and client.get("/api/v1/me").status_code == 200
    again = _second_browser(app, "reset.me@example.com")
    identity = IdentityService.for_platform(platform)
    identity.reset_password(
        "reset.me@example.com", new_password="an operator chosen phrase 55", actor="admin"
    )
    assert again.get("/api/v1/me").status_code == 401
    assert (
        _second_browser(app, "reset.me@example.com", "an operator chosen phrase 55")
        .get("/api/v1/me")
        .is_success
    )
    reasons = [e.details.get("reason") for e in open_audit(platform).read(action="sessions.revoked")
               if e.subject == user_id]  # fmt: skip
    assert reasons == ["mfa_reset", "password_reset"]
