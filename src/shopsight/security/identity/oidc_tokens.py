"""ID token (OpenID Connect Core 1.0, section 3.1.3.7) and logout token (OpenID Connect Back-Channel
Logout 1.0, section 2.6) validation, with joserfc.

The signature is checked with a key from the provider's JWKS (RSA and EC keys only) and an algorithm
from a hard-coded allowlist, never the token's own choice: ``alg=none`` and an HS256 token "signed" with
the provider's public key are refused before anything else is read. Then ``iss`` must be the configured
issuer, ``aud`` must hold our client id, ``exp`` (when present) must be ahead and ``iat`` recent (within
the clock skew). An ID token must also have ``sub`` and ``exp``, ``azp`` must be our client id when
there are several audiences, and ``nonce`` must be the one this browser's sign-in sent. A logout token
must be typed ``logout+jwt`` (when typed at all), carry a ``jti``, the back-channel logout event, and
``sub`` or ``sid``, and no ``nonce``: an ID token is never taken for a logout token, nor the reverse
(cross-JWT confusion).
"""

from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import ECKey, KeySet, RSAKey

from shopsight.errors import ShopSightError
from shopsight.security.identity.oidc_store import digest

ALGORITHMS = ("RS256", "ES256")  # the allowlist: whatever the token's header says
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPES = ("logout+jwt", "application/logout+jwt")  # RFC 7515 4.1.9: the prefix may go
MAX_ID_CHARS = 255  # ``sid`` and ``jti`` longer than this are not kept (nor accepted in a logout token)
_KEY_TYPES = {"RSA", "EC"}
_MAX_TOKEN_BYTES = 16 * 1024


class InvalidProviderToken(ShopSightError):
    """An ID or logout token that is forged, expired, replayed or meant for another client; ``reason``
    says which."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


@dataclass(frozen=True)
class IdTokenClaims:
    """What a valid ID token says about who signed in, and how."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    amr: list[str]
    acr: str | None
    sid: str | None  # the provider's session, which a back-channel logout token may name later
    claims: dict[str, Any] = field(repr=False)

    def values_of(self, name: str) -> list[str]:
        """A claim as a list of strings (a single string counts as a list of one)."""
        value = self.claims.get(name)
        if isinstance(value, str):
            return [value]
        return [str(item) for item in value] if isinstance(value, list) else []


@dataclass(frozen=True)
class LogoutTokenClaims:
    """What a valid logout token asks: end the provider session ``sid`` and/or every session of ``sub``."""

    issuer: str
    jti: str
    issued_at: int
    subject: str | None
    sid: str | None


@dataclass(frozen=True)
class Expectations:
    """What a token from the provider must say to be accepted now: who issued it, for whom, how fresh."""

    issuer: str
    client_id: str
    now: int  # seconds since the epoch
    skew: int
    max_age: int


def signing_keys(jwks: object) -> KeySet:
    """The RSA and EC keys of a JWKS document (symmetric or unknown key types are dropped)."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise InvalidProviderToken("bad_jwks", "the provider's JWKS is not a key set")
    keys = [key for key in jwks["keys"] if isinstance(key, dict) and key.get("kty") in _KEY_TYPES]
    usable = [key for key in keys if key.get("use", "sig") == "sig"]
    try:
        return KeySet.import_key_set({"keys": usable})
    except (JoseError, ValueError) as error:
        raise InvalidProviderToken("bad_jwks", f"the provider's JWKS cannot be read: {error}") from None


def token_header(token: str) -> dict[str, Any]:
    """The header of a compact JWS, unverified (to pick the key), after size and algorithm checks."""
    if len(token) > _MAX_TOKEN_BYTES:
        raise InvalidProviderToken("malformed", "token too large")
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError as error:
        raise InvalidProviderToken("malformed", f"token header cannot be parsed: {error}") from None
    if not isinstance(header, dict) or token.count(".") != 2:
        raise InvalidProviderToken("malformed", "token is not a compact JWS")
    if header.get("alg") not in ALGORITHMS:
        raise InvalidProviderToken("alg_not_allowed", f"token algorithm {header.get('alg')!r} is not allowed")
    return header


def key_for(header: dict[str, Any], keys: KeySet) -> RSAKey | ECKey | None:
    """The provider key the header names (by ``kid``; the only key of the right type when none)."""
    kid, wanted = header.get("kid"), "RSA" if header["alg"].startswith("RS") else "EC"
    candidates = [key for key in keys.keys if key.key_type == wanted]
    if kid is not None:
        candidates = [key for key in candidates if key.kid == kid]
    found = candidates[0] if len(candidates) == 1 else None
    return found if isinstance(found, RSAKey | ECKey) else None


def verify_id_token(
    token: str, *, key: RSAKey | ECKey, expect: Expectations, nonce_hash: str
) -> IdTokenClaims:
    """The claims of a valid ID token; :class:`InvalidProviderToken` with the reason otherwise."""
    _, claims = _decoded(token, key)
    _check_registered_claims(claims, expect, essential=("sub", "exp"))
    _check_audience(claims, expect.client_id)
    _check_authorized_party(claims, expect.client_id)
    _check_nonce(claims, nonce_hash)
    return _claims(claims)


def verify_logout_token(token: str, *, key: RSAKey | ECKey, expect: Expectations) -> LogoutTokenClaims:
    """The claims of a valid back-channel logout token (the spec's section 2.6);
    :class:`InvalidProviderToken` with the reason otherwise. Whether its ``jti`` was seen before is the
    caller's to check."""
    header, claims = _decoded(token, key)
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in LOGOUT_TOKEN_TYPES):
        raise InvalidProviderToken("wrong_type", f"a logout token is typed logout+jwt, not {typ!r}")
    _check_registered_claims(claims, expect, essential=("jti",))
    _check_audience(claims, expect.client_id)
    _check_logout_event(claims)
    return _logout_claims(claims)


def _decoded(token: str, key: RSAKey | ECKey) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a token whose signature verifies with ``key`` and an allowed algorithm."""
    try:
        decoded = jwt.decode(token, key, algorithms=list(ALGORITHMS))
    except BadSignatureError:
        raise InvalidProviderToken("bad_signature", "token signature does not verify") from None
    except JoseError as error:
        raise InvalidProviderToken("malformed", f"token rejected: {error}") from None
    return dict(decoded.header), decoded.claims


def _check_registered_claims(
    claims: dict[str, Any], expect: Expectations, *, essential: tuple[str, ...]
) -> None:
    options: dict[str, jwt.ClaimsOption] = {name: {"essential": True} for name in ("aud", "iat", *essential)}
    options["iss"] = {"essential": True, "value": expect.issuer}
    registry = jwt.JWTClaimsRegistry(now=expect.now, leeway=expect.skew, **options)
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise InvalidProviderToken("expired", "token has expired") from None
    except MissingClaimError as error:
        raise InvalidProviderToken("missing_claim", str(error)) from None
    except InvalidClaimError as error:
        reason = "wrong_issuer" if error.claim == "iss" else "invalid_claim"
        raise InvalidProviderToken(reason, str(error)) from None
    if expect.now - claims["iat"] > expect.max_age + expect.skew:
        raise InvalidProviderToken("too_old", "token was issued too long ago")


def _audiences(claims: dict[str, Any]) -> list[str]:
    audience = claims["aud"]
    return [audience] if isinstance(audience, str) else list(audience)


def _check_audience(claims: dict[str, Any], client_id: str) -> None:
    if client_id not in _audiences(claims):
        raise InvalidProviderToken("wrong_audience", "token is meant for another client")


def _check_authorized_party(claims: dict[str, Any], client_id: str) -> None:
    if len(_audiences(claims)) > 1 and claims.get("azp") != client_id:
        raise InvalidProviderToken("wrong_audience", "ID token has several audiences and another azp")


def _check_nonce(claims: dict[str, Any], nonce_hash: str) -> None:
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(digest(nonce), nonce_hash):
        raise InvalidProviderToken("nonce_mismatch", "ID token nonce is not the one this sign-in sent")


def _check_logout_event(claims: dict[str, Any]) -> None:
    """The claims that make a logout token one, and keep it from passing for an ID token."""
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(LOGOUT_EVENT), dict):
        raise InvalidProviderToken("missing_event", "a logout token's events name the back-channel logout")
    if "nonce" in claims:
        raise InvalidProviderToken("nonce_present", "a logout token carries no nonce")
    sub, sid = claims.get("sub"), claims.get("sid")
    if sub is None and sid is None:
        raise InvalidProviderToken("missing_claim", "a logout token names a sub, a sid or both")
    for name in ("jti", "sid"):
        value = claims.get(name)
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS):
            raise InvalidProviderToken("invalid_claim", f"{name} must be a string of 1 to {MAX_ID_CHARS}")


def _claims(claims: dict[str, Any]) -> IdTokenClaims:
    email, amr, acr, sid = (claims.get(name) for name in ("email", "amr", "acr", "sid"))
    return IdTokenClaims(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=email if isinstance(email, str) else None,
        email_verified=claims.get("email_verified") is True,
        amr=[str(value) for value in amr] if isinstance(amr, list) else [],
        acr=acr if isinstance(acr, str) else None,
        sid=sid if isinstance(sid, str) and 0 < len(sid) <= MAX_ID_CHARS else None,
        claims=claims,
    )


def _logout_claims(claims: dict[str, Any]) -> LogoutTokenClaims:
    sub, sid = claims.get("sub"), claims.get("sid")
    return LogoutTokenClaims(
        issuer=str(claims["iss"]),
        jti=str(claims["jti"]),
        issued_at=int(claims["iat"]),
        subject=str(sub) if sub is not None else None,
        sid=str(sid) if sid is not None else None,
    )
