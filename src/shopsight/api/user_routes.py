"""``/api/v1/users``: the staff directory for administrators, through :class:`IdentityService`.

Listing needs ``users:read``, creating ``users:write``, disabling and resetting MFA ``users:admin``. State
changes from a browser session need the CSRF token (the route guard checks it) and are audited by the
identity service with the caller as actor. A new user whose role needs MFA gets a TOTP enrolment: the
provisioning URI and recovery codes are in the answer once and never again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field

from shopsight.api.analytics_routes import Problem
from shopsight.api.auth import Caller, Security, authorize
from shopsight.errors import ValidationFailed
from shopsight.security.identity.models import UserCreate, UserPublic
from shopsight.security.identity.store import UserExists
from shopsight.security.policy import Action, Resource, Role

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in (session cookie or bearer token)."},
    403: {"model": Problem, "description": "Not allowed to the caller, or the CSRF token is missing."},
}
_ONE_USER: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No user with that id."},
    **_PROBLEMS,
}
_NEW_USER: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The password breaks the password policy (reasons given)."},
    409: {"model": Problem, "description": "A user with that e-mail exists."},
    **_PROBLEMS,
}
UserId = Annotated[str, Path(min_length=1, max_length=64, description="The user's id.")]


class UserAccount(BaseModel):
    """A user as administrators see them: no password hash, no TOTP secret."""

    id: str
    email: str
    role: Role
    stores: list[str]
    regions: list[str]
    pii_clearance: bool
    disabled: bool
    created_at: datetime
    mfa_enabled: bool
    mfa_required: bool
    locked_until: datetime | None


class NewUser(UserCreate):
    """A user to create, with their first password."""

    password: str = Field(min_length=1, max_length=1024)


class CreatedUser(BaseModel):
    """The new user and, when the role needs MFA, their TOTP enrolment (shown this once)."""

    user: UserAccount
    totp_provisioning_uri: str | None = Field(
        default=None, description="otpauth:// URI for the authenticator app; the first code confirms it."
    )
    recovery_codes: list[str] | None = None


def _account(user: UserPublic) -> UserAccount:
    return UserAccount(**user.model_dump(), mfa_required=user.mfa_required)


def build_user_router(security: Security) -> APIRouter:
    """``GET/POST /api/v1/users``, ``POST /api/v1/users/{id}/disable`` and ``.../reset-mfa``."""
    router = APIRouter(prefix="/api/v1/users", tags=["users"])
    identity = security.identity
    user_reader = Depends(authorize(security, Resource.USERS, Action.READ))
    user_writer = Depends(authorize(security, Resource.USERS, Action.WRITE))
    user_admin = Depends(authorize(security, Resource.USERS, Action.ADMIN))

    def email_of(user_id: str) -> str:
        user = identity.user_by_id(user_id)
        if user is None:
            raise HTTPException(404, "no such user")
        return user.email

    @router.get("", response_model=list[UserAccount], responses=_PROBLEMS)
    def list_users(_caller: Caller = user_reader) -> list[UserAccount]:
        """Every user with role, scope, PII clearance and MFA state."""
        return [_account(user) for user in identity.list_users()]

    @router.post("", status_code=201, response_model=CreatedUser, responses=_NEW_USER)
    def create_user(new: NewUser, caller: Caller = user_writer) -> CreatedUser:
        """Create a user (audited); a role that needs MFA gets its TOTP enrolment started."""
        fields = new.model_dump(exclude={"password"})
        try:
            user = identity.create_user(
                UserCreate(**fields), password=new.password, actor=caller.principal.user_id
            )
        except UserExists:
            raise HTTPException(409, "a user with that e-mail exists") from None
        except ValidationFailed as failed:
            raise HTTPException(400, "; ".join(failed.reasons)) from None
        if not user.mfa_required:
            return CreatedUser(user=_account(user))
        enrollment = identity.enroll_mfa(user.email, password=new.password)
        return CreatedUser(
            user=_account(identity.get_user(user.email)),
            totp_provisioning_uri=enrollment.provisioning_uri,
            recovery_codes=enrollment.recovery_codes,
        )

    @router.post("/{user_id}/disable", response_model=UserAccount, responses=_ONE_USER)
    def disable_user(user_id: UserId, caller: Caller = user_admin) -> UserAccount:
        """Stop a user from signing in (audited); their sessions and API keys stop working too."""
        return _account(identity.disable_user(email_of(user_id), actor=caller.principal.user_id))

    @router.post("/{user_id}/reset-mfa", response_model=UserAccount, responses=_ONE_USER)
    def reset_mfa(user_id: UserId, caller: Caller = user_admin) -> UserAccount:
        """Remove a user's TOTP secret and recovery codes (audited); they enrol again at next sign-in."""
        return _account(identity.reset_mfa(email_of(user_id), actor=caller.principal.user_id))

    return router
