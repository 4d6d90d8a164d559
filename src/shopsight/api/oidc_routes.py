"""``/auth/oidc/login``, ``/auth/oidc/callback`` and ``/auth/oidc/backchannel-logout``: single sign-on
through the configured OpenID Provider.

Browser routes, not API: they answer redirects and small HTML pages and stay out of the OpenAPI spec.
The sign-in under way is tied to the browser by an HttpOnly cookie limited to ``/auth/oidc``; it is
SameSite=Lax because the provider's redirect back is a cross-site navigation (a Strict cookie would not
come along). A successful callback creates the same session as the password login (cookie, CSRF token)
and moves on with a same-site refresh rather than a redirect: browsers treat a redirect chain that began
on another site as cross-site and would withhold the new SameSite=Strict session cookie.

The back-channel logout route is called by the provider, server to server (OpenID Connect Back-Channel
Logout 1.0): no cookie and no CSRF token, only a signed logout token in a form body. It answers 200 when
the token is valid (the sessions it names are ended) and 400 ``invalid_request`` otherwise.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from shopsight.api.auth import CSRF_COOKIE, SESSION_COOKIE, Security, client_of, cookie_name, session_secret
from shopsight.security.identity.oidc import LogoutRefused, SingleSignOn, SsoRefused, SsoSignIn

SSO_COOKIE = "shopsight_sso"
SSO_PATH = "/auth/oidc"
_NO_STORE = {"Cache-Control": "no-store"}
_BAD_CALLBACK = {"state_mismatch", "missing_code"}
_PROVIDER_DOWN = {"discovery_failed", "jwks_unavailable", "issuer_mismatch"}
_FORM = "application/x-www-form-urlencoded"
_MAX_LOGOUT_BODY = 32 * 1024  # a logout token is at most 16 KiB


def flow_cookie(request: Request) -> str:
    """The sign-in cookie's name: ``__Secure-`` prefixed over TLS (``__Host-`` would need ``Path=/``)."""
    return f"__Secure-{SSO_COOKIE}" if request.url.scheme == "https" else SSO_COOKIE


def _status(refused: SsoRefused) -> int:
    if refused.reason in _BAD_CALLBACK:
        return 400
    return 502 if refused.reason in _PROVIDER_DOWN else 403


def _refusal_page(refused: SsoRefused) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in failed · ShopSight</title>'
        '<link rel="stylesheet" href="/static/css/app.css"></head><body class="login-page">'
        '<main id="main" class="login-card"><h1>Single sign-on failed</h1>'
        f'<p class="error" role="alert">Reason: <code>{escape(refused.reason)}</code></p>'
        '<p><a href="/login">Back to sign-in</a></p></main></body></html>'
    )
    return HTMLResponse(html, status_code=_status(refused), headers=_NO_STORE)


def _signed_in_page(next_path: str) -> HTMLResponse:
    target = escape(next_path, quote=True)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={target}"><title>Signed in · ShopSight</title></head>'
        f'<body><p>Signed in. <a href="{target}">Continue</a></p></body></html>'
    )
    return HTMLResponse(html, headers=_NO_STORE)


def _start_session(security: Security, request: Request, response: Response, signed: SsoSignIn) -> None:
    """The password login's session and cookies (same names, prefix and flags), for the SSO user."""
    presented = session_secret(request)
    if presented:  # no session fixation (though a SameSite=Strict cookie rarely comes along here)
        security.sessions.revoke(presented)
    user_agent, ip = client_of(request)
    secret, session = security.sessions.create(
        signed.user.id, mfa_verified=signed.mfa_verified, user_agent=user_agent, ip=ip,
        sso_id_token=signed.id_token, sso_sid=signed.sid,
    )  # fmt: skip
    secure = request.url.scheme == "https"
    for name, value, httponly in ((SESSION_COOKIE, secret, True), (CSRF_COOKIE, session.csrf_token, False)):
        response.set_cookie(
            cookie_name(request, name), value, httponly=httponly, secure=secure, samesite="strict", path="/"
        )


def _logout_refusal(reason: str) -> JSONResponse:
    body = {"error": "invalid_request", "error_description": reason}
    return JSONResponse(body, status_code=400, headers=_NO_STORE)


async def _logout_token(request: Request) -> str | None:
    """The ``logout_token`` of a form body (exactly one), read up to a size limit; None otherwise."""
    if request.headers.get("content-type", "").split(";", 1)[0].strip().lower() != _FORM:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_LOGOUT_BODY:
            return None
    try:
        form = parse_qs(body.decode("ascii"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    tokens = form.get("logout_token", [])
    return tokens[0] if len(tokens) == 1 else None


def build_oidc_router(security: Security, sso: SingleSignOn) -> APIRouter:
    """The single sign-on routes for ``sso``'s provider."""
    router = APIRouter(prefix=SSO_PATH, include_in_schema=False)
    lifetime = timedelta(minutes=sso.settings.login_timeout_minutes)

    @router.get("/login")
    def login(request: Request, next: str | None = None) -> Response:
        """Send the browser to the provider (``next``: the local page to open afterwards)."""
        try:
            start = sso.begin(next)
        except SsoRefused as refused:
            return _refusal_page(refused)
        response = RedirectResponse(start.authorization_url, status_code=303, headers=_NO_STORE)
        response.set_cookie(
            flow_cookie(request), start.browser_secret, max_age=int(lifetime.total_seconds()), path=SSO_PATH,
            httponly=True, secure=request.url.scheme == "https", samesite="lax",
        )  # fmt: skip
        return response

    @router.get("/callback")
    def callback(request: Request) -> Response:
        """Where the provider sends the browser back with ``code`` and ``state``."""
        params = dict(request.query_params)
        response: Response
        try:
            signed = sso.finish(params, browser_secret=request.cookies.get(flow_cookie(request)))
        except SsoRefused as refused:
            response = _refusal_page(refused)
        else:
            response = _signed_in_page(signed.next_path)
            _start_session(security, request, response, signed)
        secure = request.url.scheme == "https"
        response.delete_cookie(
            flow_cookie(request), path=SSO_PATH, secure=secure, httponly=True, samesite="lax"
        )
        return response

    @router.post("/backchannel-logout")
    async def backchannel_logout(request: Request) -> Response:
        """The provider ends sessions: ``logout_token`` (form field), a signed logout token."""
        token = await _logout_token(request)
        try:
            await run_in_threadpool(sso.backchannel_logout, token, sessions=security.sessions)
        except LogoutRefused as refused:
            return _logout_refusal(refused.reason)
        return Response(status_code=200, headers=_NO_STORE)

    return router
