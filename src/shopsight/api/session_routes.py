"""``/api/v1/me/sessions`` and ``/api/v1/me/password``: a signed-in person manages their own sign-ins.

A user lists their live web sessions (started, last used, browser / OS summary, sign-in address), ends one
of them or every one but the current, and changes their password (current password, and a current code
once MFA is on; the other sessions end). These routes act on the caller's own account only, need a
browser session (a machine token has none) and, for changes, the CSRF token; every ending is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from shopsight.api.analytics_routes import Problem
from shopsight.api.auth import Caller, Security, _from_session, expire_session_cookies
from shopsight.errors import ValidationFailed
from shopsight.security.audit import JsonValue
from shopsight.security.identity.service import ReauthenticationFailed
from shopsight.security.sessions import WebSession

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No browser session (a bearer token has none)."},
    403: {"model": Problem, "description": "The CSRF token is missing or wrong."},
}
_ONE: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "The caller has no live session with that id."},
    **_PROBLEMS,
}
_PASSWORD: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The new password breaks the password policy (reasons given)."},
    401: _PROBLEMS[401],
    403: {"model": Problem, "description": "Wrong current password or code, or the CSRF token is missing."},
}
SessionId = Annotated[str, Path(min_length=1, max_length=64, description="A session id from the list.")]


class SessionInfo(BaseModel):
    """One live sign-in of the caller."""

    id: str
    created_at: datetime
    last_seen_at: datetime
    user_agent: str | None = Field(description="Browser and operating system, as far as known.")
    ip: str | None = Field(description="The address the session signed in from.")
    current: bool = Field(description="Whether this is the session of the request.")


class SessionsEnded(BaseModel):
    """How many sessions a request ended."""

    ended: int


class PasswordChange(BaseModel):
    """The current password (and a TOTP or recovery code once MFA is on) and the new one."""

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(default=None, max_length=64)


def _info(session: WebSession, current: WebSession) -> SessionInfo:
    return SessionInfo(
        id=session.id, created_at=session.created_at, last_seen_at=session.last_seen_at,
        user_agent=session.user_agent, ip=session.ip, current=session.id == current.id,
    )  # fmt: skip


def _session_caller(security: Security, request: Request) -> tuple[Caller, WebSession]:
    caller = _from_session(security, request)
    if caller.session is None:  # _from_session always sets it; this keeps the types honest
        raise HTTPException(401, "sign in first")
    return caller, caller.session


def build_session_router(security: Security) -> APIRouter:
    """The caller's own sessions and password under ``/api/v1/me``."""
    router = APIRouter(prefix="/api/v1/me", tags=["auth"])

    @router.get("/sessions", response_model=list[SessionInfo], responses=_PROBLEMS)
    def list_sessions(request: Request) -> list[SessionInfo]:
        """The caller's live sessions, most recently used first; ``current`` marks this one."""
        caller, current = _session_caller(security, request)
        return [_info(s, current) for s in security.sessions.list_user(caller.principal.user_id)]

    @router.delete("/sessions/{session_id}", status_code=204, responses=_ONE)
    def end_session(session_id: SessionId, request: Request, response: Response) -> None:
        """End one of the caller's sessions (audited); ending the current one signs this browser out."""
        caller, current = _session_caller(security, request)
        user_id = caller.principal.user_id
        if not security.sessions.revoke_id(user_id, session_id):
            raise HTTPException(404, "no such session")
        details: dict[str, JsonValue] = {"session": session_id, "current": session_id == current.id}
        security.audit.record(action="session.revoked", actor=user_id, subject=user_id, details=details)
        if session_id == current.id:
            expire_session_cookies(request, response)

    @router.delete("/sessions", response_model=SessionsEnded, responses=_PROBLEMS)
    def end_other_sessions(request: Request) -> SessionsEnded:
        """End every session of the caller but this one (audited)."""
        caller, current = _session_caller(security, request)
        user_id = caller.principal.user_id
        ended = security.identity.end_sessions(user_id, actor=user_id, reason="user_request", keep=current.id)
        return SessionsEnded(ended=ended)

    @router.post("/password", status_code=204, responses=_PASSWORD)
    def change_password(change: PasswordChange, request: Request) -> None:
        """Set a new password; the caller's other sessions end, this one stays."""
        caller, current = _session_caller(security, request)
        if caller.email is None:
            raise HTTPException(401, "sign in first")
        try:
            security.identity.change_password(
                caller.email, current_password=change.current_password, new_password=change.new_password,
                code=change.code, keep_session=current.id,
            )  # fmt: skip
        except ReauthenticationFailed:
            raise HTTPException(403, "the current password or code is wrong") from None
        except ValidationFailed as failed:
            raise HTTPException(400, "; ".join(failed.reasons)) from None

    return router
