"""``/api/v1/auth/password-reset``: a person who forgot their password gets a link by e-mail and sets a new
one (:mod:`shopsight.security.identity.password_reset`).

Both routes are for people who cannot sign in, so they take no session. Asking always answers 202 with
the same words and the mail goes out after the answer, so neither the body nor the time tells whether
the address has an account. Without a mail server (``mail.smtp_url``) the routes are not served (404): an
administrator resets passwords then (``shopsight users reset-password``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, HTTPException
from pydantic import BaseModel, Field

from shopsight.api.analytics_routes import Problem
from shopsight.errors import ValidationFailed
from shopsight.security.identity.password_reset import PasswordResets, ResetRefused
from shopsight.security.identity.service import ReauthenticationFailed

ASKED = "If the address belongs to an account, a link to reset its password is on its way."


class ResetAsked(BaseModel):
    """The e-mail address of the account whose password was forgotten."""

    email: str = Field(min_length=3, max_length=254)


class ResetDone(BaseModel):
    """The token from the mailed link, the new password, and a current MFA or recovery code when the
    account has MFA."""

    token: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(default=None, max_length=64)


class Detail(BaseModel):
    """What happened, in words."""

    detail: str


_DONE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The link is invalid, used or expired, or the password is weak."},
    401: {"model": Problem, "description": "The account has MFA: a current code is needed."},
}


def build_password_reset_router(resets: PasswordResets) -> APIRouter:
    """The two reset routes over ``resets`` (served only when a mail server is configured)."""
    router = APIRouter(prefix="/api/v1/auth/password-reset", tags=["auth"])

    @router.post("", status_code=202, response_model=Detail)
    def ask(asked: ResetAsked, background: BackgroundTasks) -> Detail:
        """Mail a reset link to the address if it has an account (the answer never says whether)."""
        background.add_task(resets.request, asked.email)
        return Detail(detail=ASKED)

    @router.post("/confirm", response_model=Detail, responses=_DONE_PROBLEMS)
    def confirm(done: ResetDone) -> Detail:
        """Set the new password with the mailed token; every session of the account ends."""
        try:
            resets.complete(done.token, new_password=done.new_password, code=done.code)
        except ResetRefused as refused:
            raise HTTPException(400, str(refused)) from None
        except ReauthenticationFailed:
            raise HTTPException(401, "a current MFA code (or a recovery code) is needed") from None
        except ValidationFailed as failed:
            raise HTTPException(400, "; ".join(failed.reasons)) from None
        return Detail(detail="your password is changed: sign in with it")

    return router
