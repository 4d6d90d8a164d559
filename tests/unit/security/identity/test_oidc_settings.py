"""Single sign-on settings: off by default, complete and over TLS when on, set through nested env vars."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from shopsight.config import load_settings
from shopsight.security.identity.oidc import local_path
from shopsight.security.identity.oidc_settings import OidcSettings
from shopsight.security.policy import Role

COMPLETE = {
    "enabled": True,
    "issuer": "https://sso.example.com/realms/shop",
    "client_id": "shopsight",
    "client_secret": "s3cret",
    "redirect_url": "https://shop.example.com/auth/oidc/callback",
}


def test_sso_is_off_by_default_with_jit_provisioning_off(tmp_path: Path) -> None:
    oidc = load_settings(home=tmp_path).oidc
    assert oidc.enabled is False and oidc.provision_users is False and oidc.role_map == {}
    assert oidc.scopes == ["openid", "email", "profile"]


@pytest.mark.parametrize("missing", ["issuer", "client_id", "client_secret", "redirect_url"])
def test_enabled_needs_every_value(missing: str) -> None:
    with pytest.raises(ValidationError, match=missing):
        OidcSettings(**{**COMPLETE, missing: ""})


@pytest.mark.parametrize(
    ("field", "url"),
    [("issuer", "http://sso.example.com"), ("redirect_url", "http://shop.example.com/cb"),
     ("issuer", "ftp://127.0.0.1")],
)  # fmt: skip
def test_plain_http_is_refused_except_on_loopback(field: str, url: str) -> None:
    with pytest.raises(ValidationError, match="https"):
        OidcSettings(**{**COMPLETE, field: url})
    assert OidcSettings(**{**COMPLETE, "issuer": "http://127.0.0.1:8080"}).enabled


def test_the_openid_scope_is_required() -> None:
    with pytest.raises(ValidationError, match="openid"):
        OidcSettings(**{**COMPLETE, "scopes": ["email"]})


def test_nested_environment_variables_configure_sso(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in COMPLETE.items():
        monkeypatch.setenv(f"SHOPSIGHT_OIDC__{name.upper()}", str(value).lower() if value is True else value)
    monkeypatch.setenv("SHOPSIGHT_OIDC__ROLE_MAP", '{"shop-admins": "admin", "staff": "support"}')
    monkeypatch.setenv("SHOPSIGHT_OIDC__ALLOWED_EMAIL_DOMAINS", '["example.com"]')
    oidc = load_settings(home=tmp_path).oidc
    assert oidc.enabled and oidc.role_map == {"shop-admins": Role.ADMIN, "staff": Role.SUPPORT}
    assert oidc.allowed_email_domains == ["example.com"]
    assert "s3cret" not in repr(oidc) and oidc.client_secret.get_secret_value() == "s3cret"


@pytest.mark.parametrize(
    ("asked", "kept"),
    [("/overview", "/overview"), ("/customers/c1?x=1", "/customers/c1?x=1"), (None, "/"),
     ("https://evil.example/", "/"), ("//evil.example", "/"), ("/\\evil.example", "/"), ("overview", "/")],
)  # fmt: skip
def test_only_local_paths_are_followed_after_sign_in(asked: str | None, kept: str) -> None:
    assert local_path(asked) == kept
