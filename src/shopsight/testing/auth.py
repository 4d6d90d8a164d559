"""Signing a test user in through the real login route (MFA included) for API and browser tests."""

from __future__ import annotations

import pyotp
from fastapi.testclient import TestClient

from shopsight.platform import Platform
from shopsight.security.identity.models import UserCreate
from shopsight.security.identity.service import IdentityService
from shopsight.security.policy import Role

TEST_PASSWORD = "correct horse battery staple 9"


def create_user(
    platform: Platform, email: str, role: Role, *, pii_clearance: bool = False, password: str = TEST_PASSWORD,
    stores: tuple[str, ...] = (), regions: tuple[str, ...] = (),
) -> str | None:  # fmt: skip
    """Create a user (with a store / region scope when given); returns the TOTP secret to enrol with when
    the role needs MFA (else None)."""
    identity = IdentityService.for_platform(platform)
    wanted = UserCreate(
        email=email, role=role, pii_clearance=pii_clearance, stores=list(stores), regions=list(regions)
    )
    user = identity.create_user(wanted, password=password)
    if not user.mfa_required:
        return None
    return identity.enroll_mfa(email, password=password).secret


def sign_in(
    client: TestClient, platform: Platform, role: Role, *, email: str | None = None,
    stores: tuple[str, ...] = (), regions: tuple[str, ...] = (),
) -> dict[str, str]:  # fmt: skip
    """Create a user with ``role`` (and scope), sign ``client`` in (its cookie jar keeps the session);
    returns the headers a state-changing request needs (the CSRF token)."""
    address = email or f"{role.value}@example.com"
    secret = create_user(platform, address, role, stores=stores, regions=regions)
    code = pyotp.TOTP(secret).now() if secret else None
    answer = client.post(
        "/api/v1/auth/login", json={"email": address, "password": TEST_PASSWORD, "code": code}
    )
    if answer.status_code != 200:
        raise AssertionError(f"sign-in as {role.value} failed: {answer.status_code} {answer.text}")
    return {"X-CSRF-Token": str(answer.json()["csrf_token"])}
