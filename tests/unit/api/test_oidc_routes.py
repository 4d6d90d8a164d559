"""Single sign-on against a real OpenID Provider on 127.0.0.1: the browser's whole journey and every refusal.

The provider (``shopsight.testing.openid_provider``) serves discovery, JWKS, authorize and token over
HTTP and signs real RS256/ES256 ID tokens; ShopSight discovers it, exchanges codes and fetches its keys
over the network. The test walks the browser's redirects by hand: ShopSight runs in the TestClient, the
provider's authorization endpoint is reached with a real HTTP request.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.api.auth import CSRF_COOKIE, SESSION_COOKIE
from shopsight.api.oidc_routes import SSO_COOKIE
from shopsight.config import load_settings
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit
from shopsight.security.identity.service import IdentityService
from shopsight.security.policy import Role
from shopsight.testing.auth import TEST_PASSWORD, create_user, sign_in
from shopsight.testing.openid_provider import IdpAccount, OpenIdTestProvider

CLIENT_ID, CLIENT_SECRET = "shopsight", "a client secret for tests"
ORIGIN = "http://localhost"  # TLS or loopback only: the settings refuse another plain-HTTP redirect URL
CALLBACK = f"{ORIGIN}/auth/oidc/callback"
REFRESH = re.compile(r'<meta http-equiv="refresh" content="0;url=([^"]+)">')

ClientFactory = Callable[..., tuple[TestClient, Platform]]


@pytest.fixture(scope="module")
def running_provider() -> Iterator[OpenIdTestProvider]:
    with OpenIdTestProvider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=CALLBACK) as idp:
        yield idp


@pytest.fixture
def idp(running_provider: OpenIdTestProvider) -> OpenIdTestProvider:
    running_provider.reset()
    return running_provider


@pytest.fixture
def make_client(tmp_path: Path, idp: OpenIdTestProvider) -> Iterator[ClientFactory]:
    """A ShopSight app with SSO to ``idp``; keyword arguments override the ``oidc`` settings."""
    opened: list[tuple[TestClient, Platform]] = []

    def make(*, origin: str = ORIGIN, **oidc: Any) -> tuple[TestClient, Platform]:
        settings = {"enabled": True, "provider_name": "Keycloak", "issuer": idp.issuer,
                    "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_url": CALLBACK,
                    **oidc}  # fmt: skip
        platform = Platform(load_settings(home=tmp_path / f"home{len(opened)}", oidc=settings))
        client = TestClient(create_app(platform), base_url=origin)
        client.__enter__()
        opened.append((client, platform))
        return client, platform

    yield make
    for client, platform in opened:
        client.__exit__(None, None, None)
        platform.close()


@pytest.fixture(scope="module")
def shared(
    running_provider: OpenIdTestProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Platform]]:
    """One app with analyst ana@example.com, for the refusals that change nothing (saves an app a test)."""
    oidc = {"enabled": True, "issuer": running_provider.issuer, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "redirect_url": CALLBACK}  # fmt: skip
    platform = Platform(load_settings(home=tmp_path_factory.mktemp("sso") / "home", oidc=oidc))
    create_user(platform, "ana@example.com", Role.ANALYST)
    with TestClient(create_app(platform), base_url=ORIGIN) as client:
        yield client, platform
    platform.close()


def start(client: TestClient, next_path: str = "/overview") -> str:
    """Open ``/auth/oidc/login``; returns the provider URL the browser is sent to."""
    answer = client.get("/auth/oidc/login", params={"next": next_path}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def at_provider(authorize_url: str) -> str:
    """The browser at the provider (a real HTTP request): returns the callback URL it is sent back to."""
    answer = httpx.get(authorize_url, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def callback(client: TestClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def sso_sign_in(client: TestClient, next_path: str = "/overview") -> httpx.Response:
    """The whole round trip; returns ShopSight's answer to the callback."""
    return callback(client, at_provider(start(client, next_path)))


def refusals(platform: Platform) -> list[str]:
    """The reasons of audited SSO refusals, oldest first."""
    entries = open_audit(platform).read(action="auth.login.failed")
    return [str(e.details["reason"]) for e in entries if e.details.get("method") == "oidc"]


def assert_refused(platform: Platform, answer: httpx.Response, reason: str, status: int = 403) -> None:
    assert answer.status_code == status, answer.text
    assert reason in answer.text
    assert refusals(platform)[-1:] == [reason]
    assert SESSION_COOKIE not in answer.cookies


# -- the journey -------------------------------------------------------------------------------------


def test_the_login_page_offers_sso_only_when_configured(tmp_path: Path, make_client: ClientFactory) -> None:
    sso, _ = make_client()
    assert 'id="sso-login"' in sso.get("/login").text and "Sign in with Keycloak" in sso.get("/login").text
    platform = Platform(load_settings(home=tmp_path / "plain"))
    try:
        with TestClient(create_app(platform)) as plain:
            assert "sso-login" not in plain.get("/login").text
            assert plain.get("/auth/oidc/login", follow_redirects=False).status_code == 404
    finally:
        platform.close()


def test_a_known_user_signs_in_end_to_end(make_client: ClientFactory, idp: OpenIdTestProvider) -> None:
    client, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    authorize = start(client, "/funnel")
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{idp.issuer}/authorize?")
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["client_id"] == [CLIENT_ID] and query["redirect_uri"] == [CALLBACK]
    assert len(query["state"][0]) >= 43 and len(query["nonce"][0]) >= 43
    answer = callback(client, at_provider(authorize))
    assert answer.status_code == 200, answer.text
    refresh = REFRESH.search(answer.text)
    assert refresh is not None and refresh.group(1) == "/funnel"
    id_token, access_token = idp.issued_tokens[-2:]  # V10.1.1: they stay on the server
    sent = answer.text + "".join(answer.headers.get_list("set-cookie"))
    assert id_token not in sent and access_token not in sent
    assert client.get(refresh.group(1)).status_code == 200  # the dashboard page, signed in
    me = client.get("/api/v1/me").json()
    assert me["email"] == "ana@example.com" and me["role"] == "analyst"
    succeeded = open_audit(platform).read(action="auth.login.succeeded")[-1]
    assert succeeded.details == {"method": "oidc", "mfa": "none"} and succeeded.actor == me["id"]
    assert open_audit(platform).read(action="auth.oidc.linked")[-1].subject == me["id"]


def test_signing_out_of_an_sso_session_signs_out_at_the_provider(
    make_client: ClientFactory, idp: OpenIdTestProvider
) -> None:
    """RP-initiated logout: the local session ends, then the browser goes to the provider's end-session
    endpoint with the sign-in's ID token as hint, and the provider sends it back to our sign-in page."""
    client, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    assert callback(client, at_provider(start(client, "/overview"))).status_code == 200
    id_token = idp.issued_tokens[-2]
    stolen = client.cookies[SESSION_COOKIE]
    signed_out = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": client.cookies[CSRF_COOKIE]})
    assert signed_out.status_code == 200
    redirect = signed_out.json()["redirect"]
    query = parse_qs(urlsplit(redirect).query)
    assert redirect.startswith(f"{idp.issuer}/logout?")
    assert query["id_token_hint"] == [id_token] and query["client_id"] == [CLIENT_ID]
    assert query["post_logout_redirect_uri"] == [idp.post_logout_redirect_uri]
    client.cookies.set(SESSION_COOKIE, stolen)
    assert client.get("/api/v1/me").status_code == 401  # ended here before the provider is asked
    at_idp = httpx.get(redirect, follow_redirects=False)
    assert at_idp.status_code == 303 and at_idp.headers["location"] == idp.post_logout_redirect_uri
    assert idp.ended_sessions == [idp.account.subject]
    logged = open_audit(platform).read(action="auth.logout")[-1]
    assert logged.details == {"provider_logout": True}


def test_a_password_session_signs_out_locally_only(
    make_client: ClientFactory, idp: OpenIdTestProvider
) -> None:
    client, platform = make_client()
    headers = sign_in(client, platform, Role.ANALYST)
    assert client.post("/api/v1/auth/logout", headers=headers).json() == {"redirect": "/login"}
    assert idp.ended_sessions == []


def test_sso_cookies_are_the_password_logins_cookies(make_client: ClientFactory) -> None:
    """Same session cookie, same flags; the sign-in cookie is HttpOnly, Lax, and scoped to the flow."""
    client, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    begun = client.get("/auth/oidc/login", follow_redirects=False)
    flow_cookie = begun.headers["set-cookie"]
    assert flow_cookie.startswith(f"{SSO_COOKIE}=") and "HttpOnly" in flow_cookie
    assert "Path=/auth/oidc" in flow_cookie and "SameSite=lax" in flow_cookie
    answer = callback(client, at_provider(begun.headers["location"]))
    by_sso = {c.split("=", 1)[0]: _flags(c) for c in answer.headers.get_list("set-cookie")}
    password = TestClient(client.app, base_url=ORIGIN).post(
        "/api/v1/auth/login", json={"email": "ana@example.com", "password": TEST_PASSWORD}
    )
    by_password = {c.split("=", 1)[0]: _flags(c) for c in password.headers.get_list("set-cookie")}
    assert by_sso[SESSION_COOKIE] == by_password[SESSION_COOKIE]
    assert by_sso[CSRF_COOKIE] == by_password[CSRF_COOKIE]
    assert by_sso[SSO_COOKIE] != by_sso[SESSION_COOKIE]  # deleted on the way out


def test_over_tls_the_cookies_carry_their_prefixes(
    make_client: ClientFactory, idp: OpenIdTestProvider
) -> None:
    secure_callback = "https://localhost/auth/oidc/callback"
    idp.redirect_uri = secure_callback
    client, platform = make_client(origin="https://localhost", redirect_url=secure_callback)
    create_user(platform, "ana@example.com", Role.ANALYST)
    begun = client.get("/auth/oidc/login", follow_redirects=False)
    assert begun.headers["set-cookie"].startswith(f"__Secure-{SSO_COOKIE}=")
    assert "secure" in _flags(begun.headers["set-cookie"])
    answer = callback(client, at_provider(begun.headers["location"]))
    assert answer.status_code == 200, answer.text
    names = {c.split("=", 1)[0] for c in answer.headers.get_list("set-cookie")}
    assert {f"__Host-{SESSION_COOKIE}", f"__Host-{CSRF_COOKIE}"} <= names
    assert client.get("/api/v1/me").json()["email"] == "ana@example.com"


def _flags(set_cookie: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in set_cookie.split(";")[1:])


def test_after_the_first_sign_in_the_user_is_found_by_sub(
    make_client: ClientFactory, idp: OpenIdTestProvider
) -> None:
    """V10.5.2: the provider account stays linked to its user even when its e-mail changes."""
    client, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    create_user(platform, "bob@example.com", Role.MARKETER)
    assert sso_sign_in(client).status_code == 200
    client.cookies.clear()
    idp.account = IdpAccount(subject="idp-user-1", email="bob@example.com")
    assert sso_sign_in(client).status_code == 200
    assert client.get("/api/v1/me").json()["email"] == "ana@example.com"
    client.cookies.clear()
    idp.account = IdpAccount(subject="idp-user-2", email="ana@example.com")  # another account, same e-mail
    assert_refused(platform, sso_sign_in(client), "identity_conflict")


def test_an_es256_token_is_accepted_too(make_client: ClientFactory, idp: OpenIdTestProvider) -> None:
    client, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    idp.tweaks.signing = "ES256"
    assert sso_sign_in(client).status_code == 200


def test_a_rotated_provider_key_is_fetched_again(make_client: ClientFactory, idp: OpenIdTestProvider) -> None:
    """The JWKS is cached; a token naming a new key makes ShopSight fetch the keys once more."""
    client, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    assert sso_sign_in(client).status_code == 200
    idp.rotate_rsa_key()
    client.cookies.clear()
    assert sso_sign_in(client).status_code == 200


# -- the callback must belong to this browser's sign-in -------------------------------------------------


def test_a_wrong_or_missing_state_is_refused(make_client: ClientFactory) -> None:
    client, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    back = at_provider(start(client))
    forged = re.sub(r"state=[^&]+", "state=forged-state", back)
    assert_refused(platform, callback(client, forged), "state_mismatch", 400)
    without = re.sub(r"&?state=[^&]+", "", at_provider(start(client)))
    assert_refused(platform, callback(client, without), "state_mismatch", 400)


def test_a_callback_in_another_browser_is_refused(make_client: ClientFactory) -> None:
    """V10.1.2 / V10.2.1: an attacker's callback URL does not sign a victim's browser in (login CSRF)."""
    attacker, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    back = at_provider(start(attacker))
    victim = TestClient(attacker.app, base_url=ORIGIN)
    assert_refused(platform, callback(victim, back), "state_mismatch", 400)  # no sign-in cookie at all
    start(victim)  # the victim's own sign-in under way: a cookie, but not the one for this state
    assert_refused(platform, callback(victim, back), "state_mismatch", 400)
    assert SESSION_COOKIE not in victim.cookies
    assert callback(attacker, back).status_code == 400  # the forged attempt used the sign-in up


def test_a_replayed_code_is_refused(make_client: ClientFactory, idp: OpenIdTestProvider) -> None:
    """V10.4.2: the callback works once; a code replayed into a new sign-in is refused by the provider."""
    client, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    back = at_provider(start(client))
    flow_cookie = client.cookies[SSO_COOKIE]
    assert callback(client, back).status_code == 200
    client.cookies.set(SSO_COOKIE, flow_cookie, path="/auth/oidc")
    assert_refused(platform, callback(client, back), "state_mismatch", 400)
    code = parse_qs(urlsplit(back).query)["code"][0]
    client.cookies.clear()
    fresh = at_provider(start(client))
    replay = re.sub(r"code=[^&]+", f"code={code}", fresh)
    requests = idp.token_requests
    assert_refused(platform, callback(client, replay), "token_exchange_failed")
    assert idp.token_requests == requests + 1  # the provider was asked, and said no


def test_a_provider_error_and_a_foreign_issuer_parameter_are_refused(make_client: ClientFactory) -> None:
    """V10.2.2: an authorization response naming another issuer (RFC 9207) is a mix-up."""
    client, platform = make_client()
    back = at_provider(start(client))
    assert_refused(platform, callback(client, re.sub(r"iss=[^&]+", "iss=https%3A%2F%2Fevil.example", back)),
                   "issuer_mismatch", 502)  # fmt: skip
    state = parse_qs(urlsplit(at_provider(start(client))).query)["state"][0]
    denied = callback(client, f"{CALLBACK}?error=access_denied&state={state}")
    assert_refused(platform, denied, "provider_error")


def test_discovery_naming_another_issuer_is_refused(
    make_client: ClientFactory, idp: OpenIdTestProvider
) -> None:
    """V10.5.3: provider metadata whose issuer differs from the configured one is not used."""
    client, platform = make_client()
    idp.discovery_issuer = "https://evil.example"
    answer = client.get("/auth/oidc/login", follow_redirects=False)
    assert_refused(platform, answer, "issuer_mismatch", 502)


# -- the ID token ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"nonce": "a nonce this browser never sent"}, "id_token_nonce_mismatch"),
        ({"nonce": None}, "id_token_nonce_mismatch"),
        ({"aud": "another-client"}, "id_token_wrong_audience"),
        ({"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}, "id_token_wrong_audience"),
        ({"iss": "https://evil.example"}, "id_token_wrong_issuer"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 3900}, "id_token_expired"),
        ({"iat": int(time.time()) - 3600}, "id_token_too_old"),
        ({"iat": int(time.time()) + 3600}, "id_token_invalid_claim"),
        ({"sub": None}, "id_token_missing_claim"),
    ],
    ids=["wrong-nonce", "no-nonce", "wrong-aud", "azp", "wrong-iss", "expired", "old", "future", "no-sub"],
)
def test_bad_id_token_claims_are_refused(
    shared: tuple[TestClient, Platform], idp: OpenIdTestProvider, claims: dict[str, Any], reason: str
) -> None:
    client, platform = shared
    idp.tweaks.claims = claims
    assert_refused(platform, sso_sign_in(client), reason)


@pytest.mark.parametrize(
    ("signing", "reason"),
    [
        ("none", "id_token_alg_not_allowed"),
        ("HS256-public-key", "id_token_alg_not_allowed"),
        ("RS256-foreign-key", "id_token_bad_signature"),
    ],
)
def test_forged_signatures_are_refused(
    shared: tuple[TestClient, Platform], idp: OpenIdTestProvider, signing: str, reason: str
) -> None:
    client, platform = shared
    idp.tweaks.signing = signing
    assert_refused(platform, sso_sign_in(client), reason)


# -- who the provider's user is here ----------------------------------------------------------------------


def test_an_unknown_email_is_refused_without_provisioning(make_client: ClientFactory) -> None:
    client, platform = make_client()
    assert_refused(platform, sso_sign_in(client), "unknown_user")
    assert IdentityService.for_platform(platform).list_users() == []


def test_an_unverified_or_foreign_domain_email_is_refused(
    make_client: ClientFactory, idp: OpenIdTestProvider
) -> None:
    client, platform = make_client(allowed_email_domains=["example.com"])
    create_user(platform, "ana@example.com", Role.ANALYST)
    idp.account = IdpAccount(subject="idp-user-1", email="ana@example.com", email_verified=False)
    assert_refused(platform, sso_sign_in(client), "email_unverified")
    idp.account = IdpAccount(subject="idp-user-9", email="ana@example.org")
    assert_refused(platform, sso_sign_in(client), "email_domain_not_allowed")


def test_a_disabled_user_is_refused(make_client: ClientFactory) -> None:
    client, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    IdentityService.for_platform(platform).disable_user("ana@example.com", actor="test")
    assert_refused(platform, sso_sign_in(client), "disabled")


ROLE_MAP = {"shop-analysts": "analyst", "shop-marketing": "marketer", "shop-admins": "admin"}


def test_the_role_map_decides_the_role(make_client: ClientFactory, idp: OpenIdTestProvider) -> None:
    client, platform = make_client(role_map=ROLE_MAP)
    create_user(platform, "ana@example.com", Role.SUPPORT)
    idp.account = IdpAccount(subject="s1", email="ana@example.com", groups=["staff", "shop-marketing"])
    assert sso_sign_in(client).status_code == 200
    assert client.get("/api/v1/me").json()["role"] == "marketer"
    change = open_audit(platform).read(action="role.changed")[-1]
    assert change.actor == "oidc" and change.details == {"from": "support", "to": "marketer"}
    client.cookies.clear()
    idp.account = IdpAccount(subject="s1", email="ana@example.com", groups=["staff"])
    assert_refused(platform, sso_sign_in(client), "no_role")  # no match and no default role


def test_just_in_time_provisioning_creates_the_mapped_user(
    make_client: ClientFactory, idp: OpenIdTestProvider
) -> None:
    client, platform = make_client(provision_users=True, role_map=ROLE_MAP, default_role="support")
    idp.account = IdpAccount(subject="new-1", email="Neo@Example.com", groups="shop-analysts")  # type: ignore[arg-type]
    assert sso_sign_in(client).status_code == 200
    created = IdentityService.for_platform(platform).get_user("neo@example.com")
    assert created.role is Role.ANALYST
    assert open_audit(platform).read(action="user.created")[-1].actor == "oidc"
    client.cookies.clear()
    idp.account = IdpAccount(subject="new-2", email="zoe@example.com", groups=[])
    assert sso_sign_in(client).status_code == 200
    assert IdentityService.for_platform(platform).get_user("zoe@example.com").role is Role.SUPPORT


def test_privileged_roles_need_mfa_at_the_provider(
    make_client: ClientFactory, idp: OpenIdTestProvider
) -> None:
    """V6.8.4: an admin signs in by SSO only when the provider says it did MFA (amr or acr)."""
    client, platform = make_client(role_map=ROLE_MAP, mfa_acr_values=["gold"])
    create_user(platform, "root@example.com", Role.ANALYST)
    admin: dict[str, Any] = {"subject": "r1", "email": "root@example.com", "groups": ["shop-admins"]}
    idp.account = IdpAccount(**admin, amr=["pwd"])
    assert_refused(platform, sso_sign_in(client), "mfa_not_asserted")
    assert IdentityService.for_platform(platform).get_user("root@example.com").role is Role.ANALYST
    idp.account = IdpAccount(
        subject="r1", email="root@example.com", groups=["shop-admins"], amr=["pwd", "mfa"]
    )
    assert sso_sign_in(client).status_code == 200
    assert client.get("/api/v1/me").json()["role"] == "admin"
    assert open_audit(platform).read(action="auth.login.succeeded")[-1].details["mfa"] == "idp"
    client.cookies.clear()
    idp.account = IdpAccount(**admin, acr="gold")
    assert sso_sign_in(client).status_code == 200


# -- back-channel logout -------------------------------------------------------------------------------

BACKCHANNEL = "/auth/oidc/backchannel-logout"
ANA = IdpAccount(subject="idp-ana", email="ana@example.com")
BOB = IdpAccount(subject="idp-bob", email="bob@example.com")


def browser_signed_in(
    client: TestClient, idp: OpenIdTestProvider, account: IdpAccount
) -> tuple[TestClient, str]:
    """A new browser signed in by SSO as ``account``; returns it and its session id at the provider."""
    idp.account = account
    browser = TestClient(client.app, base_url=ORIGIN)
    assert sso_sign_in(browser).status_code == 200
    return browser, idp.sessions[-1].sid


def browser_with_password(client: TestClient, email: str) -> TestClient:
    browser = TestClient(client.app, base_url=ORIGIN)
    answer = browser.post("/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD})
    assert answer.status_code == 200, answer.text
    return browser


def provider_posts(client: TestClient, token: str) -> httpx.Response:
    """The provider posting a logout token, server to server: no cookie, no CSRF token."""
    return TestClient(client.app, base_url=ORIGIN).post(BACKCHANNEL, data={"logout_token": token})


def signed_in(*browsers: TestClient) -> list[bool]:
    return [browser.get("/api/v1/me").status_code == 200 for browser in browsers]


def backchannel_refusals(platform: Platform) -> list[str]:
    entries = open_audit(platform).read(action="auth.oidc.backchannel_logout.failed")
    return [str(entry.details["reason"]) for entry in entries]


@pytest.fixture(scope="module")
def sso_session(
    running_provider: OpenIdTestProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Platform, str]]:
    """One app with ana signed in by SSO: (her browser, the platform, her session id at the provider)."""
    oidc = {"enabled": True, "issuer": running_provider.issuer, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "redirect_url": CALLBACK}  # fmt: skip
    platform = Platform(load_settings(home=tmp_path_factory.mktemp("backchannel") / "home", oidc=oidc))
    create_user(platform, "ana@example.com", Role.ANALYST)
    running_provider.reset()
    with TestClient(create_app(platform), base_url=ORIGIN) as client:
        browser, sid = browser_signed_in(client, running_provider, ANA)
        yield browser, platform, sid
    platform.close()


def test_a_backchannel_logout_by_sid_ends_exactly_that_session(
    make_client: ClientFactory, idp: OpenIdTestProvider
) -> None:
    """V7.6.1: signing out at the provider ends the ShopSight session of that provider session, and
    only that one: the same user's other SSO and password sessions and other users' sessions live on."""
    client, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    create_user(platform, "bob@example.com", Role.MARKETER)
    discovery = httpx.get(f"{idp.issuer}/.well-known/openid-configuration").json()
    assert discovery["backchannel_logout_supported"] and discovery["backchannel_logout_session_supported"]
    laptop, laptop_sid = browser_signed_in(client, idp, ANA)
    phone, phone_sid = browser_signed_in(client, idp, ANA)
    bob, _ = browser_signed_in(client, idp, BOB)
    ana_by_password = browser_with_password(client, "ana@example.com")
    answer = provider_posts(client, idp.logout_token(subject=ANA.subject, sid=laptop_sid))
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert signed_in(laptop, phone, bob, ana_by_password) == [False, True, True, True]
    ana_id = IdentityService.for_platform(platform).get_user("ana@example.com").id
    done = open_audit(platform).read(action="auth.oidc.backchannel_logout.succeeded")[-1]
    assert done.subject == ana_id and done.details == {"by": "sid+sub", "sessions": 1}
    # sid and sub must name the same person: bob's sub with ana's provider session ends nothing
    assert provider_posts(client, idp.logout_token(subject=BOB.subject, sid=phone_sid)).status_code == 200
    assert signed_in(phone, bob) == [True, True]
    assert provider_posts(client, idp.logout_token(sid=phone_sid)).status_code == 200  # a sid alone
    assert signed_in(phone, bob, ana_by_password) == [False, True, True]


def test_a_backchannel_logout_by_sub_ends_every_sso_session_of_the_user(
    make_client: ClientFactory, idp: OpenIdTestProvider
) -> None:
    """Without a sid the provider signs the account out everywhere: every SSO session of its user ends
    (their password session is not the provider's to end). The provider's key rotated since the
    sign-in: ShopSight fetches the keys again."""
    client, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    create_user(platform, "bob@example.com", Role.MARKETER)
    laptop, _ = browser_signed_in(client, idp, ANA)
    phone, _ = browser_signed_in(client, idp, ANA)
    bob, _ = browser_signed_in(client, idp, BOB)
    ana_by_password = browser_with_password(client, "ana@example.com")
    idp.rotate_rsa_key()
    assert provider_posts(client, idp.logout_token(subject=ANA.subject)).status_code == 200
    assert signed_in(laptop, phone, bob, ana_by_password) == [False, False, True, True]
    assert provider_posts(client, idp.logout_token(subject="nobody-here")).status_code == 200  # no link
    done = open_audit(platform).read(action="auth.oidc.backchannel_logout.succeeded")
    assert [entry.details for entry in done] == [{"by": "sub", "sessions": 2}, {"by": "sub", "sessions": 0}]


def test_a_replayed_logout_token_is_refused(make_client: ClientFactory, idp: OpenIdTestProvider) -> None:
    """V10.5.5: a logout token works once; its jti is kept, and a second token with it is refused."""
    client, platform = make_client()
    create_user(platform, "ana@example.com", Role.ANALYST)
    first, first_sid = browser_signed_in(client, idp, ANA)
    token = idp.logout_token(subject=ANA.subject, sid=first_sid)
    assert provider_posts(client, token).status_code == 200
    again, again_sid = browser_signed_in(client, idp, ANA)
    replay = provider_posts(client, token)
    assert replay.status_code == 400
    assert replay.json() == {"error": "invalid_request", "error_description": "replayed"}
    jti = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["jti"]
    same_jti = idp.logout_token(subject=ANA.subject, sid=again_sid, claims={"jti": jti})
    assert provider_posts(client, same_jti).json()["error_description"] == "replayed"
    assert signed_in(first, again) == [False, True]
    assert backchannel_refusals(platform)[-2:] == ["replayed", "replayed"]


NOW = int(time.time())


@pytest.mark.parametrize(
    ("tweak", "reason"),
    [
        ({"claims": {"aud": "another-client"}}, "wrong_audience"),
        ({"claims": {"iss": "https://evil.example"}}, "wrong_issuer"),
        ({"claims": {"exp": NOW - 3600, "iat": NOW - 3700}}, "expired"),
        ({"claims": {"iat": NOW - 3600, "exp": None}}, "too_old"),
        ({"claims": {"iat": None}}, "missing_claim"),
        ({"claims": {"events": None}}, "missing_event"),
        ({"claims": {"events": {"http://schemas.openid.net/event/other": {}}}}, "missing_event"),
        ({"claims": {"events": ["http://schemas.openid.net/event/backchannel-logout"]}}, "missing_event"),
        ({"claims": {"nonce": "a nonce"}}, "nonce_present"),
        ({"claims": {"jti": None}}, "missing_claim"),
        ({"claims": {"sub": None, "sid": None}}, "missing_claim"),
        ({"header": {"typ": "JWT"}}, "wrong_type"),
        ({"signing": "none"}, "alg_not_allowed"),
        ({"signing": "HS256-public-key"}, "alg_not_allowed"),
        ({"header": {"kid": "rsa-unknown"}}, "unknown_key"),
        ({"signing": "RS256-foreign-key"}, "bad_signature"),
    ],
    ids=["wrong-aud", "wrong-iss", "expired", "too-old", "no-iat", "no-events", "other-event",
         "events-list", "nonce", "no-jti", "no-sub-no-sid", "typ-jwt", "alg-none", "hs256-public-key",
         "unknown-key", "foreign-key"],
)  # fmt: skip
def test_bad_logout_tokens_are_refused_and_end_nothing(
    sso_session: tuple[TestClient, Platform, str],
    idp: OpenIdTestProvider,
    tweak: dict[str, Any],
    reason: str,
) -> None:
    """V10.5.5: each token a provider would not send (or an attacker would) is a 400 and the session
    it names lives on."""
    browser, platform, sid = sso_session
    answer = provider_posts(browser, idp.logout_token(subject=ANA.subject, sid=sid, **tweak))
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"error": "invalid_request", "error_description": reason}
    assert answer.headers["cache-control"] == "no-store"
    assert backchannel_refusals(platform)[-1] == reason
    assert signed_in(browser) == [True]


def test_an_id_token_or_no_token_is_not_a_logout(
    sso_session: tuple[TestClient, Platform, str], idp: OpenIdTestProvider
) -> None:
    """Cross-JWT confusion: a real ID token of this client, posted as a logout token, is refused."""
    browser, platform, sid = sso_session
    id_token = [t for t in idp.issued_tokens if t.count(".") == 2][-1]  # signed ana in, above
    assert provider_posts(browser, id_token).json()["error_description"] == "wrong_type"
    server = TestClient(browser.app, base_url=ORIGIN)
    assert server.post(BACKCHANNEL, data={}).json()["error_description"] == "missing_token"
    assert server.post(BACKCHANNEL, json={"logout_token": "x"}).json()["error_description"] == "missing_token"
    token = idp.logout_token(sid=sid)
    twice = server.post(BACKCHANNEL, content=f"logout_token={token}&logout_token={token}",
                        headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert twice.status_code == 400
    assert server.get(BACKCHANNEL).status_code == 405
    assert backchannel_refusals(platform)[-3:] == ["missing_token"] * 3
    assert signed_in(browser) == [True]
