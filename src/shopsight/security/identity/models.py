"""What identity takes in and hands out: new users, public user views, login results, enrollments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shopsight.security.identity.roles import Role, requires_mfa


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time stored by identity is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# A region is an ISO 3166-1 country code (US) or an ISO 3166-2 subdivision (US-NY); any case.
REGION_CODE = re.compile(r"[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?")


def normalize_email(email: str) -> str:
    """Trimmed and lower-cased: one account per address whatever the capitalisation."""
    return email.strip().lower()


class UserCreate(BaseModel):
    """A new user: who, with which role and which store / region scope."""

    model_config = ConfigDict(frozen=True)

    email: str = Field(min_length=3, max_length=254)
    role: Role
    stores: list[str] = Field(default_factory=list, max_length=100)  # location ids; empty: every store
    regions: list[str] = Field(default_factory=list, max_length=100)  # empty: every region
    pii_clearance: bool = False

    @field_validator("stores")
    @classmethod
    def _plausible_stores(cls, value: list[str]) -> list[str]:
        if any(not store or len(store) > 100 or any(c.isspace() for c in store) for store in value):
            raise ValueError("a store is a location id without spaces")
        return value

    @field_validator("regions")
    @classmethod
    def _region_codes(cls, value: list[str]) -> list[str]:
        wrong = [region for region in value if not REGION_CODE.fullmatch(region)]
        if wrong:
            raise ValueError("a region is a country code (US) or a country subdivision (US-NY)")
        return value

    @field_validator("email")
    @classmethod
    def _plausible_email(cls, value: str) -> str:
        email = normalize_email(value)
        local, at, domain = email.partition("@")
        if not (local and at and "." in domain) or any(c.isspace() for c in email) or "@" in domain:
            raise ValueError("not an e-mail address")
        return email


class UserPublic(BaseModel):
    """A user as lists and the API show it: no hash, no secret."""

    model_config = ConfigDict(frozen=True)

    id: str
    email: str
    role: Role
    stores: list[str]
    regions: list[str]
    pii_clearance: bool
    disabled: bool
    created_at: datetime
    mfa_enabled: bool  # a TOTP secret was confirmed with a code
    locked_until: datetime | None

    @property
    def mfa_required(self) -> bool:
        """Whether this user may only sign in with a second factor."""
        return requires_mfa(self.role, pii_clearance=self.pii_clearance)


class AuthOutcome(StrEnum):
    """Why a login succeeded or not. Operators and the audit log see this; clients see ``public_reason``."""

    OK = "ok"
    INVALID_CREDENTIALS = "invalid_credentials"  # unknown e-mail or wrong password: indistinguishable
    LOCKED = "locked"
    DISABLED = "disabled"
    RATE_LIMITED = "rate_limited"  # too many failures from this source address
    MFA_REQUIRED = "mfa_required"  # password right, a TOTP or recovery code is needed
    INVALID_MFA_CODE = "invalid_mfa_code"  # wrong, expired or replayed code
    MFA_ENROLLMENT_REQUIRED = "mfa_enrollment_required"  # privileged user without confirmed MFA


# Outcomes that would tell a guesser the account exists: shown to clients as invalid credentials.
_HIDDEN = {AuthOutcome.LOCKED, AuthOutcome.DISABLED}


class AuthResult(BaseModel):
    """The answer to one login attempt."""

    model_config = ConfigDict(frozen=True)

    outcome: AuthOutcome
    user: UserPublic | None = None  # set only when the password was right
    used_recovery_code: bool = False

    @property
    def ok(self) -> bool:
        """Whether the user is signed in."""
        return self.outcome is AuthOutcome.OK

    @property
    def public_reason(self) -> str:
        """What a client may be told: never whether the e-mail exists."""
        return AuthOutcome.INVALID_CREDENTIALS.value if self.outcome in _HIDDEN else self.outcome.value


@dataclass(frozen=True)
class MfaEnrollment:
    """Shown once when MFA is enrolled: the secret for manual entry, its URI and QR code, recovery codes."""

    secret: str = field(repr=False)
    provisioning_uri: str = field(repr=False)
    qr_svg: str = field(repr=False)
    recovery_codes: list[str] = field(repr=False)
