"""A real, small OpenID Provider for tests, served over HTTP on 127.0.0.1 in the test process.

It does what a relying party meets at Keycloak or any provider: discovery, a JWKS (an RSA and an EC key),
an authorization endpoint that checks the client, the exact redirect URI and a PKCE S256 challenge and
signs the configured account in at once, and a token endpoint that authenticates the client
(``client_secret_basic``), redeems a code once and within a minute, checks the PKCE verifier and
returns an ID token signed for real (with a ``sid`` per sign-in: the provider session), and an
end-session endpoint (RP-initiated logout) that accepts only an ID token it issued to this client as the
hint and a registered post-logout address. For back-channel logout it builds the logout tokens a provider
posts to the relying party (:meth:`OpenIdTestProvider.logout_token`), correct or wrong as asked. Tests
change :attr:`OpenIdTestProvider.account` (who signs in) and :attr:`OpenIdTestProvider.tweaks` (what the
next ID token does wrong) between sign-ins.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

import uvicorn
from cryptography.hazmat.primitives import serialization
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CODE_LIFETIME_SECONDS = 60
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass
class IdpAccount:
    """The person the provider signs in at its authorization endpoint."""

    subject: str
    email: str
    email_verified: bool = True
    groups: list[str] = field(default_factory=list)
    amr: list[str] = field(default_factory=lambda: ["pwd"])
    acr: str | None = None


@dataclass
class TokenTweaks:
    """What the next ID tokens get wrong: claim overrides (``None`` drops a claim) and the signature.

    ``signing``: ``RS256`` or ``ES256`` (correct), ``none`` (unsigned), ``HS256-public-key`` (an HMAC
    keyed with the RSA public key's PEM), ``RS256-foreign-key`` (signed by a key not in the JWKS, under
    the ``kid`` of the provider's RSA key).
    """

    claims: dict[str, Any] = field(default_factory=dict)
    signing: str = "RS256"


@dataclass(frozen=True)
class IdpSession:
    """One sign-in at the provider: its session id (the ID token's ``sid``) and who signed in."""

    sid: str
    subject: str


@dataclass(frozen=True)
class _Grant:
    nonce: str | None
    challenge: str
    redirect_uri: str
    account: IdpAccount
    issued: float
    sid: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    client_id, _, secret = base64.b64decode(value).decode().partition(":")
    return unquote(client_id), unquote(secret)


class OpenIdTestProvider:
    """Start with ``with OpenIdTestProvider(...) as provider:``; ``provider.issuer`` is its URL."""

    def __init__(self, *, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.client_id, self.client_secret, self.redirect_uri = client_id, client_secret, redirect_uri
        self._registered_redirect = redirect_uri
        self.rsa_key = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig", "alg": "RS256"})
        self.ec_key = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig", "alg": "ES256"})
        self._foreign_key = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
        self.account = IdpAccount(subject="idp-user-1", email="ana@example.com")
        self.tweaks = TokenTweaks()
        self.discovery_issuer: str | None = None  # set to serve a discovery document naming another issuer
        self.token_requests = 0
        self.issued_tokens: list[str] = []  # every ID and access token handed out, newest last
        self.post_logout_redirect_uri = redirect_uri.rsplit("/auth/", 1)[0] + "/login"
        self.ended_sessions: list[str] = []  # the ``sub`` of every ID token hint logged out, in order
        self.sessions: list[IdpSession] = []  # every sign-in at the authorization endpoint, newest last
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.issuer = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(self._app(), log_level="warning", lifespan="off", ws="none")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def reset(self) -> None:
        """Back to a correct provider signing in the default account."""
        self.account = IdpAccount(subject="idp-user-1", email="ana@example.com")
        self.tweaks = TokenTweaks()
        self.discovery_issuer = None
        self.redirect_uri = self._registered_redirect
        self.ended_sessions = []
        self.sessions = []

    def rotate_rsa_key(self) -> None:
        """Replace the RSA signing key with a new one under a new ``kid`` (the JWKS changes with it)."""
        number = int(str(self.rsa_key.kid).rpartition("-")[2]) + 1
        params = {"kid": f"rsa-{number}", "use": "sig", "alg": "RS256"}
        self.rsa_key = RSAKey.generate_key(2048, parameters=params)  # type: ignore[arg-type]

    def __enter__(self) -> OpenIdTestProvider:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test OpenID provider did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    # -- endpoints -------------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
                Route("/logout", self._end_session),
            ]
        )

    async def _discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.discovery_issuer or self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "end_session_endpoint": f"{self.issuer}/logout",
                "backchannel_logout_supported": True,
                "backchannel_logout_session_supported": True,
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "authorization_response_iss_parameter_supported": True,
            }
        )

    async def _end_session(self, request: Request) -> Response:
        """RP-initiated logout: the hint must be an ID token issued here for this client; then back to the
        registered post-logout address with the state."""
        params = dict(request.query_params)
        hint = params.get("id_token_hint", "")
        if hint not in self.issued_tokens or params.get("client_id", self.client_id) != self.client_id:
            return JSONResponse(
                {"error": "invalid_request", "detail": "unknown id_token_hint"}, status_code=400
            )
        if params.get("post_logout_redirect_uri") != self.post_logout_redirect_uri:
            return JSONResponse(
                {"error": "invalid_request", "detail": "unregistered redirect"}, status_code=400
            )
        claims = json.loads(base64.urlsafe_b64decode(hint.split(".")[1] + "=="))
        self.ended_sessions.append(str(claims["sub"]))
        back = self.post_logout_redirect_uri
        state = params.get("state")
        return RedirectResponse(f"{back}?{urlencode({'state': state})}" if state else back, status_code=303)

    async def _jwks(self, request: Request) -> Response:
        keys = [self.rsa_key.as_dict(private=False), self.ec_key.as_dict(private=False)]
        return JSONResponse({"keys": keys})

    async def _authorize(self, request: Request) -> Response:
        query = request.query_params
        if query.get("client_id") != self.client_id or query.get("redirect_uri") != self.redirect_uri:
            return JSONResponse({"error": "invalid_request", "error_description": "unknown client"}, 400)
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            return self._back({"error": "unsupported_response_type", "state": query.get("state", "")})
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return self._back({"error": "invalid_request", "state": query.get("state", "")})
        code, sid = secrets.token_urlsafe(24), secrets.token_urlsafe(16)
        with self._lock:
            self._grants[code] = _Grant(
                nonce=query.get("nonce"), challenge=query["code_challenge"], redirect_uri=self.redirect_uri,
                account=self.account, issued=time.time(), sid=sid,
            )  # fmt: skip
            self.sessions.append(IdpSession(sid=sid, subject=self.account.subject))
        return self._back({"code": code, "state": query.get("state", ""), "iss": self.issuer})

    def _back(self, params: dict[str, str]) -> Response:
        return RedirectResponse(f"{self.redirect_uri}?{urlencode(params)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        self.token_requests += 1
        form = dict(parse_qsl((await request.body()).decode()))  # no python-multipart needed
        if _basic_credentials(request) != (self.client_id, self.client_secret):
            return JSONResponse({"error": "invalid_client"}, 401)
        with self._lock:
            grant = self._grants.pop(str(form.get("code", "")), None)  # a code is redeemed once
        verifier = str(form.get("code_verifier", ""))
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or time.time() - grant.issued > CODE_LIFETIME_SECONDS
            or form.get("redirect_uri") != grant.redirect_uri
            or not hmac.compare_digest(challenge, grant.challenge)
        ):
            return JSONResponse({"error": "invalid_grant"}, 400)
        token = self.id_token(grant.account, nonce=grant.nonce, sid=grant.sid)
        access = secrets.token_urlsafe(24)
        self.issued_tokens += [token, access]
        return JSONResponse(
            {"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": token},
            headers={"Cache-Control": "no-store"},
        )  # fmt: skip

    # -- ID tokens -------------------------------------------------------------------------------

    def id_token(self, account: IdpAccount, *, nonce: str | None, sid: str | None = None) -> str:
        """An ID token for ``account`` (from the provider session ``sid``) as the tweaks say."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": account.subject, "aud": self.client_id, "exp": now + 300,
            "iat": now, "auth_time": now, "nonce": nonce, "sid": sid, "email": account.email,
            "email_verified": account.email_verified, "groups": account.groups, "amr": account.amr,
        }  # fmt: skip
        if account.acr is not None:
            claims["acr"] = account.acr
        claims.update(self.tweaks.claims)
        return self._sign({k: v for k, v in claims.items() if v is not None}, signing=self.tweaks.signing)

    def logout_token(
        self, *, subject: str | None = None, sid: str | None = None, claims: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None, signing: str = "RS256",
    ) -> str:  # fmt: skip
        """A back-channel logout token (OpenID Connect Back-Channel Logout 1.0, section 2.4) asking to end
        the provider session ``sid`` and/or every session of ``subject``, with a fresh ``jti``, typed
        ``logout+jwt`` and valid for two minutes. ``claims`` override (``None`` drops a claim), ``header``
        adds to or overrides the JWS header, ``signing`` as :class:`TokenTweaks` has it."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 120,
            "jti": secrets.token_urlsafe(16), "events": {LOGOUT_EVENT: {}}, "sub": subject, "sid": sid,
        }  # fmt: skip
        body.update(claims or {})
        chosen = {k: v for k, v in body.items() if v is not None}
        return self._sign(chosen, signing=signing, header={"typ": "logout+jwt", **(header or {})})

    def _sign(self, claims: dict[str, Any], *, signing: str, header: dict[str, Any] | None = None) -> str:
        extra = header or {}
        if signing == "ES256":
            return jwt.encode({"alg": "ES256", "kid": "ec-1", **extra}, claims, self.ec_key)
        if signing == "RS256-foreign-key":
            return jwt.encode({"alg": "RS256", "kid": self.rsa_key.kid, **extra}, claims, self._foreign_key)
        if signing == "none":
            return self._compact({"alg": "none", "typ": "JWT", **extra}, claims, lambda _: b"")
        if signing == "HS256-public-key":
            pem = self.rsa_key.get_op_key("verify").public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            return self._compact(
                {"alg": "HS256", "typ": "JWT", "kid": self.rsa_key.kid, **extra}, claims,
                lambda signed: hmac.new(pem, signed, hashlib.sha256).digest(),
            )  # fmt: skip
        return jwt.encode({"alg": "RS256", "kid": self.rsa_key.kid, **extra}, claims, self.rsa_key)

    @staticmethod
    def _compact(header: dict[str, Any], claims: dict[str, Any], mac: Callable[[bytes], bytes]) -> str:
        signed = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        return f"{signed}.{_b64(mac(signed.encode()))}"
