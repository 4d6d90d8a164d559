"""Talking to the OpenID Provider: discovery, its signing keys, the authorization URL and the code exchange.

Discovery (OpenID Connect Discovery 1.0) is refused when the document names another issuer than the
configured one (a mix-up or a spoofed provider) or an endpoint that is not HTTPS. The authorization URL
carries ``state``, ``nonce`` and a PKCE S256 challenge (RFC 7636), built with authlib; the code goes back
to the token endpoint with the verifier and the client's secret (``client_secret_basic``). Metadata and
keys are kept per instance; the keys are fetched again once when a token names a key we do not know
(the provider rotated its keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc.jwk import KeySet

from shopsight.errors import ShopSightError
from shopsight.security.identity.oidc_settings import OidcSettings, secure_or_loopback
from shopsight.security.identity.oidc_tokens import signing_keys

DISCOVERY_PATH = "/.well-known/openid-configuration"
_MAX_RESPONSE_BYTES = 256 * 1024


class ProviderError(ShopSightError):
    """The provider could not be used: unreachable, misconfigured, or it refused us; ``reason`` says."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ProviderMetadata:
    """The endpoints the authorization-code flow needs."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None  # RP-initiated logout, when the provider offers it


@dataclass(frozen=True)
class AuthorizationRequest:
    """The random values of one sign-in."""

    state: str
    nonce: str
    code_verifier: str


class OpenIdProviderClient:
    """One configured provider, seen from ShopSight (the relying party)."""

    def __init__(self, settings: OidcSettings) -> None:
        self._settings = settings
        self._metadata: ProviderMetadata | None = None
        self._keys: KeySet | None = None

    def metadata(self) -> ProviderMetadata:
        """The provider's endpoints (discovered once)."""
        if self._metadata is None:
            self._metadata = self._discover()
        return self._metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's signing keys (fetched once, or again with ``refresh``)."""
        if self._keys is None or refresh:
            self._keys = signing_keys(self._get_json(self.metadata().jwks_uri, "jwks_unavailable"))
        return self._keys

    def authorization_url(self, request: AuthorizationRequest) -> str:
        """Where to send the browser: code flow with state, nonce and PKCE S256."""
        url: str = prepare_grant_uri(
            self.metadata().authorization_endpoint,
            client_id=self._settings.client_id,
            response_type="code",
            redirect_uri=self._settings.redirect_url,
            scope=" ".join(self._settings.scopes),
            state=request.state,
            nonce=request.nonce,
            code_challenge=create_s256_code_challenge(request.code_verifier),
            code_challenge_method="S256",
        )
        return url

    def logout_url(self, *, id_token_hint: str, post_logout_redirect_uri: str) -> str | None:
        """The provider's end-session address for the sign-in ``id_token_hint`` came from (OpenID Connect
        RP-Initiated Logout 1.0), or None when the provider offers none."""
        endpoint = self.metadata().end_session_endpoint
        if endpoint is None:
            return None
        params = {"id_token_hint": id_token_hint, "client_id": self._settings.client_id,
                  "post_logout_redirect_uri": post_logout_redirect_uri}  # fmt: skip
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"

    def exchange_code(self, *, code: str, code_verifier: str) -> str:
        """The ID token the token endpoint gives for ``code``; :class:`ProviderError` when it refuses."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._settings.redirect_url,
            "code_verifier": code_verifier,
        }
        # RFC 6749 2.3.1: id and secret are form-encoded before they go into the Basic header.
        secret = self._settings.client_secret.get_secret_value()
        auth = httpx.BasicAuth(quote(self._settings.client_id, safe=""), quote(secret, safe=""))
        with self._http() as http:
            try:
                answer = http.post(self.metadata().token_endpoint, data=form, auth=auth)
            except httpx.HTTPError as error:
                raise ProviderError("token_exchange_failed", f"token endpoint unreachable: {error}") from None
        body = _json_object(answer)
        token = body.get("id_token") if body is not None and answer.status_code == 200 else None
        if not isinstance(token, str):
            refusal = body.get("error") if body is not None else None
            raise ProviderError("token_exchange_failed", f"token endpoint refused the code: {refusal!r}")
        return token

    def _discover(self) -> ProviderMetadata:
        issuer = self._settings.issuer
        document = self._get_json(issuer.rstrip("/") + DISCOVERY_PATH, "discovery_failed")
        if document.get("issuer") != issuer:
            raise ProviderError(
                "issuer_mismatch", f"discovery names issuer {document.get('issuer')!r}, not {issuer!r}"
            )
        names = ("authorization_endpoint", "token_endpoint", "jwks_uri")
        endpoints = {name: document.get(name) for name in names}
        bad = [n for n, url in endpoints.items() if not isinstance(url, str) or not secure_or_loopback(url)]
        if bad:
            raise ProviderError("discovery_failed", f"discovery lacks secure endpoints: {', '.join(bad)}")
        end_session = document.get("end_session_endpoint")
        usable = isinstance(end_session, str) and secure_or_loopback(end_session)
        return ProviderMetadata(
            issuer=issuer, **{k: str(v) for k, v in endpoints.items()},
            end_session_endpoint=str(end_session) if usable else None,
        )  # fmt: skip

    def _get_json(self, url: str, reason: str) -> dict[str, Any]:
        with self._http() as http:
            try:
                answer = http.get(url)
            except httpx.HTTPError as error:
                raise ProviderError(reason, f"{url} unreachable: {error}") from None
        body = _json_object(answer)
        if answer.status_code != 200 or body is None:
            raise ProviderError(reason, f"{url} answered {answer.status_code} without a JSON object")
        return body

    def _http(self) -> httpx.Client:
        # No redirects: every URL comes from configuration or discovery and is checked before use.
        return httpx.Client(timeout=self._settings.http_timeout_seconds, follow_redirects=False)


def _json_object(answer: httpx.Response) -> dict[str, Any] | None:
    if len(answer.content) > _MAX_RESPONSE_BYTES:
        return None
    try:
        body = answer.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
