"""OpenID Connect single sign-on settings: which provider, which client, and who may come in as what.

Nested under ``Settings.oidc`` (env ``SHOPSIGHT_OIDC__ISSUER``, ``SHOPSIGHT_OIDC__CLIENT_SECRET``, ...;
lists and maps as JSON, e.g. ``SHOPSIGHT_OIDC__ROLE_MAP='{"shopsight-admins": "admin"}'``). Off by default.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shopsight.security.identity.roles import Role


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_or_loopback(url: str) -> bool:
    """HTTPS, or plain HTTP to this machine only (a provider in a test or on a developer's laptop)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return bool(host) and (parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)))


class OidcSettings(BaseSettings):
    """Sign-in through an OpenID Provider (Keycloak, Entra ID, Okta, Google...) as a second login option."""

    model_config = SettingsConfigDict(extra="ignore")

    enabled: bool = False
    provider_name: str = Field(default="SSO", min_length=1, max_length=60)  # "Sign in with <this>"
    issuer: str = ""  # exactly as the provider's discovery document spells it
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    redirect_url: str = ""  # https://shopsight.example.com/auth/oidc/callback, registered at the provider
    # Where the provider sends the browser after signing out there (register it too); default: our /login.
    post_logout_redirect_url: str = ""
    role_claim: str = "groups"  # the claim whose values role_map translates (a list or a string)
    # Claim value -> ShopSight role. Empty: the local user's role stands. Set: the provider decides the
    # role at every sign-in (the first matching entry wins) and the local role follows it.
    role_map: dict[str, Role] = Field(default_factory=dict)
    default_role: Role | None = None  # with role_map set: the role when no value matches; None refuses
    allowed_email_domains: list[str] = Field(default_factory=list)  # empty: any domain
    provision_users: bool = False  # just-in-time creation; off: only existing users, linked by e-mail
    # A privileged role signs in by SSO only when the provider says it used MFA: one of these ``amr``
    # values (RFC 8176) or one of these ``acr`` values.
    mfa_amr_values: list[str] = Field(default_factory=lambda: ["mfa"])
    mfa_acr_values: list[str] = Field(default_factory=list)
    login_timeout_minutes: float = Field(default=10.0, gt=0, le=60)  # start to callback
    clock_skew_seconds: int = Field(default=60, ge=0, le=300)
    max_token_age_seconds: int = Field(default=300, ge=30)  # an older ID token (by iat) is refused
    http_timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> OidcSettings:
        """Refuse to start half-configured: every value the flow needs, over TLS (loopback excepted)."""
        if not self.enabled:
            return self
        missing = [name for name in ("issuer", "client_id", "redirect_url") if not getattr(self, name)]
        missing += [] if self.client_secret.get_secret_value() else ["client_secret"]
        if missing:
            raise ValueError(f"oidc is enabled but not set: {', '.join(missing)}")
        if not self.post_logout_redirect_url:
            origin = urlsplit(self.redirect_url)
            self.post_logout_redirect_url = f"{origin.scheme}://{origin.netloc}/login"
        urls = (self.issuer, self.redirect_url, self.post_logout_redirect_url)
        insecure = [url for url in urls if not secure_or_loopback(url)]
        if insecure:
            raise ValueError(f"oidc URLs must use https (http only on loopback): {insecure}")
        if "openid" not in self.scopes:
            raise ValueError("oidc scopes must include 'openid'")
        return self
