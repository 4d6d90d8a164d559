"""X-Forwarded-For / -Proto count only from a trusted proxy (ASVS V4.1.3, V15.3.4): the session list, the
login throttle, the audit trail, cookies and HSTS all see the resolved client, never a client's own claim."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from shopsight.api.app import create_app
from shopsight.api.proxies import TrustedProxies, parse_networks
from shopsight.config import Settings, load_settings
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit
from shopsight.security.identity.settings import IdentitySettings
from shopsight.security.policy import Role
from shopsight.testing.auth import TEST_PASSWORD, create_user

PROXY = "10.20.0.5"  # inside the trusted 10.0.0.0/8
STRANGER = "192.0.2.50"  # a peer that is no proxy of ours
CLIENT = "198.51.100.7"
OTHER_CLIENT = "198.51.100.8"
EMAIL = "analyst@example.com"
IDENTITY = IdentitySettings(
    argon2_time_cost=1, argon2_memory_cost_kib=1024, argon2_parallelism=1, source_max_failures=2
)


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[Platform]:
    settings = load_settings(
        home=tmp_path / "home", log_group_commit_ms=0.5, trusted_proxies=["10.0.0.0/8"], identity=IDENTITY
    )
    platform = Platform(settings)
    yield platform
    platform.close()


def _client(platform: Platform, peer: str) -> TestClient:
    return TestClient(create_app(platform), client=(peer, 40000))


def _sign_in(client: TestClient, platform: Platform, headers: dict[str, str]) -> dict[str, str]:
    secret = create_user(platform, EMAIL, Role.ANALYST)
    code = pyotp.TOTP(secret).now() if secret else None
    body = {"email": EMAIL, "password": TEST_PASSWORD, "code": code}
    answer = client.post("/api/v1/auth/login", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.cookies)


def _failed_login(client: TestClient, forwarded_for: str) -> int:
    body = {"email": "nobody@example.com", "password": "not the password"}
    headers = {"X-Forwarded-For": forwarded_for}
    return client.post("/api/v1/auth/login", json=body, headers=headers).status_code


def test_the_chain_is_read_from_the_right_skipping_trusted_hops() -> None:
    trusted = TrustedProxies(parse_networks(["10.0.0.0/8", "::1"]))
    assert trusted.client(f"{CLIENT}, 10.1.1.1, 10.2.2.2") == CLIENT
    assert trusted.client(f"6.6.6.6, {CLIENT}, 10.1.1.1") == CLIENT  # the forged left part is never used
    assert trusted.client("10.1.1.1, ::1") == "10.1.1.1"  # every hop trusted: the first one
    assert trusted.client(f"not-an-address, {CLIENT}") is None
    assert trusted.trusts("10.9.9.9") and trusted.trusts("::1")
    assert not trusted.trusts(CLIENT) and not trusted.trusts("testclient") and not trusted.trusts(None)


def test_the_default_trusts_no_proxy_and_a_malformed_entry_is_refused(tmp_path: Path) -> None:
    assert Settings.model_fields["trusted_proxies"].get_default(call_default_factory=True) == []
    with pytest.raises(ValidationError):
        load_settings(home=tmp_path, trusted_proxies=["10.0.0.0/8", "proxy.example.com"])


def test_the_session_records_the_forwarded_client_behind_a_trusted_proxy(proxied: Platform) -> None:
    with _client(proxied, PROXY) as client:
        _sign_in(client, proxied, {"X-Forwarded-For": f"6.6.6.6, {CLIENT}"})
        sessions = client.get("/api/v1/me/sessions").json()
    assert [s["ip"] for s in sessions] == [CLIENT]


def test_a_stranger_cannot_choose_its_address(proxied: Platform) -> None:
    with _client(proxied, STRANGER) as client:
        _sign_in(client, proxied, {"X-Forwarded-For": CLIENT, "X-Real-IP": CLIENT})
        sessions = client.get("/api/v1/me/sessions").json()
    assert [s["ip"] for s in sessions] == [STRANGER]


def test_the_login_throttle_counts_the_resolved_client(proxied: Platform) -> None:
    """source_max_failures is 2: behind the proxy each client has its own count."""
    with _client(proxied, PROXY) as client:
        assert [_failed_login(client, CLIENT) for _ in range(3)] == [401, 401, 429]
        assert _failed_login(client, OTHER_CLIENT) == 401


def test_rotating_x_forwarded_for_does_not_escape_the_throttle(proxied: Platform) -> None:
    with _client(proxied, STRANGER) as client:
        answers = [_failed_login(client, f"203.0.113.{n}") for n in range(1, 4)]
    assert answers == [401, 401, 429]


def test_the_audit_trail_sees_the_resolved_client(proxied: Platform) -> None:
    with _client(proxied, PROXY) as client:
        _failed_login(client, CLIENT)
        _failed_login(client, OTHER_CLIENT)
    with _client(proxied, STRANGER) as client:
        _failed_login(client, CLIENT)
        _failed_login(client, OTHER_CLIENT)
    sources = [entry.details["source"] for entry in open_audit(proxied).read(action="auth.login.failed")]
    assert len(sources) == 4
    assert len(set(sources)) == 3  # two proxied clients apart, the stranger's two claims as one address


def test_https_at_the_proxy_gives_secure_cookies_and_hsts(proxied: Platform) -> None:
    forwarded = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}
    with _client(proxied, PROXY) as client:
        cookies = _sign_in(client, proxied, forwarded)
        health = client.get("/health", headers=forwarded)
    assert "__Host-shopsight_session" in cookies
    assert health.headers["strict-transport-security"].startswith("max-age=")


def test_a_stranger_cannot_claim_https(proxied: Platform) -> None:
    forwarded = {"X-Forwarded-Proto": "https"}
    with _client(proxied, STRANGER) as client:
        cookies = _sign_in(client, proxied, forwarded)
        health = client.get("/health", headers=forwarded)
    assert "shopsight_session" in cookies and "__Host-shopsight_session" not in cookies
    assert "strict-transport-security" not in health.headers
