"""Who a request runs as, and whether it may: sign-in, sessions, machine tokens, and the route guard.

People sign in with e-mail, password and (for privileged roles) a TOTP or recovery code and get a
server-side session: an HttpOnly, SameSite=Strict cookie (Secure over TLS) plus a CSRF token that every
state-changing request must echo in ``X-CSRF-Token``. Over TLS the cookies are named with the ``__Host-``
prefix (Secure, Path=/, no Domain: no sibling host or plain-HTTP answer can plant or shadow them); over plain
HTTP, as ``make run`` serves on 127.0.0.1, they keep their bare names, since browsers refuse a ``__Host-``
cookie that is not Secure. Signing in always issues a new session and ends the one the browser presented.
Machines exchange an API key for a short-lived Ed25519-signed JWT and send it as ``Authorization: Bearer``;
the key's scopes bound what the token may do.
Every route names the resource and action it needs; the casbin policy decides per role and scope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from shopsight.config import path_from_url
from shopsight.events.enrich import describe_user_agent
from shopsight.platform import Platform
from shopsight.security.audit import AuditSink, JsonValue
from shopsight.security.audit_factory import open_audit
from shopsight.security.identity.api_keys import ApiKeyStore, UnknownApiKey
from shopsight.security.identity.models import AuthOutcome, AuthResult, UserPublic
from shopsight.security.identity.service import IdentityService, MfaError, ReauthenticationFailed
from shopsight.security.policy import AccessDenied, AccessRequest, Action, PolicyEnforcer, Principal, Resource
from shopsight.security.policy import Scope as AccessScope
from shopsight.security.sessions import SessionStore, WebSession
from shopsight.security.tokens import InvalidToken, TokenIssuer, load_signing_key

SESSION_COOKIE = "shopsight_session"  # the bare names, used over plain HTTP
CSRF_COOKIE = "shopsight_csrf"
HOST_PREFIX = "__Host-"  # over TLS
CSRF_HEADER = "X-CSRF-Token"
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What a failed sign-in answers: the client learns only what it can act on.
_FAILED = {
    AuthOutcome.RATE_LIMITED: 429,
    AuthOutcome.MFA_REQUIRED: 401,
    AuthOutcome.INVALID_MFA_CODE: 401,
    AuthOutcome.MFA_ENROLLMENT_REQUIRED: 403,
}


@dataclass(frozen=True)
class Security:
    """The services requests are checked with, built once per app."""

    identity: IdentityService
    sessions: SessionStore
    api_keys: ApiKeyStore
    tokens: TokenIssuer
    enforcer: PolicyEnforcer
    audit: AuditSink

    @classmethod
    def for_platform(cls, platform: Platform) -> Security:
        """Everything wired to the platform's metadata store, keyring and audit sink."""
        settings, audit = platform.settings, open_audit(platform)
        identity_settings = settings.identity
        keys_folder = path_from_url(settings.key_store_url)
        token_lifetime = timedelta(minutes=identity_settings.access_token_minutes)
        return cls(
            identity=IdentityService.for_platform(platform, audit),
            sessions=SessionStore(
                platform.metadata, idle=timedelta(minutes=identity_settings.session_idle_minutes),
                absolute=timedelta(hours=identity_settings.session_absolute_hours),
            ),
            api_keys=ApiKeyStore(metadata=platform.metadata, keyring=platform.privacy.keyring, audit=audit),
            tokens=TokenIssuer(load_signing_key(keys_folder), lifetime=token_lifetime),
            enforcer=PolicyEnforcer.from_package(),
            audit=audit,
        )  # fmt: skip


class Caller(BaseModel):
    """The authenticated principal of one request, and how it proved itself."""

    principal: Principal
    email: str | None = None  # people only
    token_scopes: list[str] | None = None  # machines only: what their API key allows
    session: WebSession | None = None


def principal_of(user: UserPublic) -> Principal:
    """The access-control view of a user."""
    scope = AccessScope(stores=frozenset(user.stores), regions=frozenset(user.regions))
    return Principal(user_id=user.id, role=user.role, scope=scope, pii_clearance=user.pii_clearance)


def cookie_name(request: Request, name: str) -> str:
    """``name`` as this connection carries it: ``__Host-`` prefixed over TLS, bare over plain HTTP."""
    return f"{HOST_PREFIX}{name}" if request.url.scheme == "https" else name


def session_secret(request: Request) -> str | None:
    """The session cookie's secret (over TLS only the ``__Host-`` cookie counts)."""
    return request.cookies.get(cookie_name(request, SESSION_COOKIE))


def client_of(request: Request) -> tuple[str | None, str | None]:
    """(browser and OS summary, address) of a signing-in client, as the user's session list shows it."""
    header = request.headers.get("user-agent", "")[:512]
    parsed = describe_user_agent(header) if header else {}
    browser, system = (parsed.get(k) for k in ("browser", "os"))
    known = [part for part in (browser, system) if part and part != "Other"]
    summary = " on ".join(known) if known else (header[:60] or None)
    return summary, request.client.host if request.client else None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _from_token(security: Security, token: str) -> Caller:
    try:
        claims = security.tokens.verify(token)
    except InvalidToken as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from None
    try:
        key = security.api_keys.get(claims.subject)
    except UnknownApiKey:
        raise HTTPException(401, "unknown API key", headers=_CHALLENGE) from None
    user = security.identity.user_by_id(key.owner)
    if key.revoked_at is not None or user is None or user.disabled:
        raise HTTPException(
            401, "the API key behind this token was revoked", headers={"WWW-Authenticate": "Bearer"}
        )
    return Caller(principal=principal_of(user), token_scopes=claims.scopes)


def _from_session(security: Security, request: Request) -> Caller:
    session = security.sessions.get(session_secret(request))
    user = security.identity.user_by_id(session.user_id) if session is not None else None
    if session is None or user is None or user.disabled:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
    if request.method not in SAFE_METHODS and not session.csrf_matches(request.headers.get(CSRF_HEADER)):
        raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header")
    return Caller(principal=principal_of(user), email=user.email, session=session)


def check(security: Security, caller: Caller, resource: Resource, action: Action) -> None:
    """403 unless the policy (and a machine's scopes) let ``caller`` do ``action`` on ``resource``."""
    wanted = f"{resource.value}:{action.value}"
    if caller.token_scopes is not None and wanted not in caller.token_scopes:
        raise HTTPException(403, f"this API key is not scoped for {wanted}")
    try:
        security.enforcer.enforce(caller.principal, AccessRequest(resource=resource, action=action))
    except AccessDenied as denied:
        raise HTTPException(403, str(denied)) from None


def authorize(
    security: Security, resource: Resource, action: Action
) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency: the caller, when the policy (and a machine's scopes) allow ``action`` on ``resource``.

    Async on purpose: the checks are two indexed metadata lookups, cheaper on the event loop than the
    thread hop FastAPI makes for a sync dependency (on every request of every route)."""

    async def guard(request: Request) -> Caller:
        token = _bearer(request)
        caller = _from_token(security, token) if token else _from_session(security, request)
        check(security, caller, resource, action)
        return caller

    return guard


class LoginRequest(BaseModel):
    """E-mail, password, and a TOTP or recovery code when the account has MFA."""

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(default=None, max_length=64)


class Me(BaseModel):
    """The signed-in user and what the policy lets them do (``resource:action``)."""

    id: str
    email: str
    role: str
    stores: list[str]
    regions: list[str]
    pii_clearance: bool
    mfa_enabled: bool
    permissions: list[str]


class SignedIn(BaseModel):
    """A new session: the user, and the CSRF token to send in ``X-CSRF-Token``."""

    user: Me
    csrf_token: str


class SignedOut(BaseModel):
    """Where the browser goes next: the sign-in page, or the single sign-on provider's end-session page
    (so signing out of ShopSight signs out of the provider's session too)."""

    redirect: str


ProviderLogout = Callable[[str], str | None]  # a session's ID token -> the provider's end-session URL


class TokenRequest(BaseModel):
    """An API key to exchange for an access token."""

    api_key: str = Field(min_length=10, max_length=200)


class AccessToken(BaseModel):
    """An OAuth2-style bearer token."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str


def _me(security: Security, user: UserPublic) -> Me:
    grants = security.enforcer.grants(user.role)
    return Me(
        id=user.id, email=user.email, role=user.role.value, stores=user.stores, regions=user.regions,
        pii_clearance=user.pii_clearance, mfa_enabled=user.mfa_enabled,
        permissions=sorted(f"{resource.value}:{action.value}" for resource, action in grants),
    )  # fmt: skip


def _sign_in(security: Security, request: Request, response: Response, user: UserPublic) -> SignedIn:
    presented = session_secret(request)
    if presented:  # no session fixation: whatever the browser held before signing in ends now
        security.sessions.revoke(presented)
    user_agent, ip = client_of(request)
    secret, session = security.sessions.create(
        user.id, mfa_verified=user.mfa_enabled, user_agent=user_agent, ip=ip
    )
    secure = request.url.scheme == "https"
    for name, value, httponly in ((SESSION_COOKIE, secret, True), (CSRF_COOKIE, session.csrf_token, False)):
        response.set_cookie(
            cookie_name(request, name), value, httponly=httponly, secure=secure, samesite="strict", path="/"
        )
    return SignedIn(user=_me(security, user), csrf_token=session.csrf_token)


def expire_session_cookies(request: Request, response: Response) -> None:
    """Tell the browser to drop both cookies (a ``__Host-`` one is only replaced when sent Secure)."""
    secure = request.url.scheme == "https"
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(cookie_name(request, name), path="/", secure=secure, samesite="strict")


def _enrolment_confirmed(security: Security, form: LoginRequest) -> UserPublic | None:
    """A privileged user's first sign-in confirms the TOTP secret they were given; None if it does not."""
    if not form.code:
        return None
    try:
        return security.identity.confirm_mfa(form.email, password=form.password, code=form.code)
    except (MfaError, ReauthenticationFailed):
        return None


def _refuse(result: AuthResult) -> HTTPException:
    return HTTPException(_FAILED.get(result.outcome, 401), result.public_reason)


def build_auth_router(security: Security, provider_logout: ProviderLogout | None = None) -> APIRouter:
    """``/api/v1/auth/*`` and ``/api/v1/me``; ``provider_logout`` (single sign-on on) names where a
    session signed in through the provider signs out there."""
    router = APIRouter(prefix="/api/v1", tags=["auth"])
    problems: dict[int | str, dict[str, Any]] = {
        401: {"description": "Wrong credentials, or a code is needed."},
        403: {"description": "MFA must be set up first, or CSRF token missing."},
        429: {"description": "Too many failures from this address."},
    }

    @router.post("/auth/login", response_model=SignedIn, responses=problems)
    def login(form: LoginRequest, request: Request, response: Response) -> SignedIn:
        """Sign in; a privileged user's first sign-in with the code from enrolment confirms their MFA."""
        source = request.client.host if request.client else None
        result = security.identity.authenticate(form.email, form.password, form.code, source_ip=source)
        if result.outcome is AuthOutcome.MFA_ENROLLMENT_REQUIRED:
            confirmed = _enrolment_confirmed(security, form)
            if confirmed is not None:
                return _sign_in(security, request, response, confirmed)
        if not result.ok or result.user is None:
            raise _refuse(result)
        return _sign_in(security, request, response, result.user)

    @router.post("/auth/logout", response_model=SignedOut, responses=problems)
    def logout(request: Request, response: Response) -> SignedOut:
        """End this browser's session (needs the CSRF token); a single sign-on session also gets the
        provider's end-session address to go to next."""
        caller = _from_session(security, request)
        secret = session_secret(request)
        if secret:
            security.sessions.revoke(secret)
        token = caller.session.sso_id_token if caller.session is not None else None
        at_provider = provider_logout(token) if token and provider_logout is not None else None
        details: dict[str, JsonValue] = {"provider_logout": at_provider is not None}
        security.audit.record(action="auth.logout", actor=caller.principal.user_id, details=details)
        expire_session_cookies(request, response)
        return SignedOut(redirect=at_provider or "/login")

    @router.get("/me", response_model=Me, responses=problems)
    def me(request: Request) -> Me:
        """The signed-in user (or the owner of the API key behind a bearer token) and their permissions."""
        token = _bearer(request)
        caller = _from_token(security, token) if token else _from_session(security, request)
        user = security.identity.user_by_id(caller.principal.user_id)
        if user is None:
            raise HTTPException(401, "sign in first")
        return _me(security, user)

    @router.post("/auth/token", response_model=AccessToken, responses=problems)
    def token(form: TokenRequest) -> AccessToken:
        """Exchange an API key (``ss_<id>_<secret>``) for a short-lived bearer token with the key's scopes."""
        key = security.api_keys.authenticate(form.api_key)
        owner = security.identity.user_by_id(key.owner) if key is not None else None
        if key is None or owner is None or owner.disabled:
            raise HTTPException(401, "unknown, revoked or expired API key")
        access = security.tokens.issue(key.id, key.scopes)
        lifetime = int(security.tokens.lifetime.total_seconds())
        return AccessToken(access_token=access, expires_in=lifetime, scope=" ".join(key.scopes))

    return router
