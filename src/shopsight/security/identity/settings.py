"""Thresholds and costs of identity: password policy, argon2id parameters, lockout and throttling."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IdentitySettings(BaseSettings):
    """Nested under ``Settings.identity`` (env ``SHOPSIGHT_IDENTITY__MAX_FAILED_LOGINS`` and so on)."""

    model_config = SettingsConfigDict(extra="ignore")

    password_min_length: int = Field(default=12, ge=8)  # ASVS 5.0 V6.2.1
    password_max_length: int = Field(default=128, ge=64)  # ASVS: at least 64 characters allowed
    # How many of zxcvbn's 30,000 ranked common passwords are refused (ASVS 5.0 V6.2.4: at least 3,000).
    common_passwords_top: int = Field(default=30_000, ge=3_000, le=30_000)
    # Words of this shop refused inside passwords, besides passwords.CONTEXT_WORDS (ASVS 5.0 V6.1.2): its
    # name, domain, brands (env as JSON: SHOPSIGHT_IDENTITY__PASSWORD_CONTEXT_WORDS='["acme", "acme.com"]').
    password_context_words: list[str] = Field(default_factory=list)
    # argon2id, RFC 9106 "second recommended option" (argon2-cffi's own defaults, written out so a change
    # here is a deliberate parameter change that makes stored hashes rehash on their next login).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost_kib: int = Field(default=64 * 1024, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    max_failed_logins: int = Field(default=5, ge=1)  # per account, then it is locked
    lockout_minutes: float = Field(default=15.0, gt=0)
    source_max_failures: int = Field(default=20, ge=1)  # per source address inside the window
    source_window_minutes: float = Field(default=15.0, gt=0)
    totp_issuer: str = "ShopSight"
    recovery_codes: int = Field(default=10, ge=1, le=50)
    session_idle_minutes: float = Field(default=30.0, gt=0)  # a web session ends after this long unused
    session_absolute_hours: float = Field(default=12.0, gt=0)  # ... and this long after sign-in, always
    access_token_minutes: float = Field(default=15.0, gt=0)  # lifetime of a machine access token (JWT)
    password_reset_minutes: float = Field(default=30.0, gt=0, le=24 * 60)  # a reset link's lifetime
    password_reset_per_hour: int = Field(default=3, ge=1)  # reset mails per account per hour, at most
