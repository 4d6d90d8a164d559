"""ID token validation (OpenID Connect Core 1.0, section 3.1.3.7), with joserfc.

The signature is checked with a key from the provider's JWKS (RSA and EC keys only) and an algorithm
from a hard-coded allowlist, never the token's own choice: ``alg=none`` and an HS256 token "signed" with
the provider's public key are refused before anything else is read. Then ``iss`` must be the configured
issuer, ``aud`` must hold our client id (and ``azp`` must be it when there are several audiences),
``exp`` must be ahead and ``iat`` recent (within the clock skew), and ``nonce`` must be the one this
browser's sign-in sent.
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
_KEY_TYPES = {"RSA", "EC"}
_MAX_TOKEN_BYTES = 16 * 1024


class InvalidIdToken(ShopSightError):
    """An ID token that is forged, expired, replayed or meant for another client; ``reason`` says which."""

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
    claims: dict[str, Any] = field(repr=False)

    def values_of(self, name: str) -> list[str]:
        """A claim as a list of strings (a single string counts as a list of one)."""
        value = self.claims.get(name)
        if isinstance(value, str):
            return [value]
        return [str(item) for item in value] if isinstance(value, list) else []


@dataclass(frozen=True)
class Expectations:
    """What a token must say to be accepted for one sign-in."""

    issuer: str
    client_id: str
    nonce_hash: str
    now: int  # seconds since the epoch
    skew: int
    max_age: int


def signing_keys(jwks: object) -> KeySet:
    """The RSA and EC keys of a JWKS document (symmetric or unknown key types are dropped)."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise InvalidIdToken("bad_jwks", "the provider's JWKS is not a key set")
    keys = [key for key in jwks["keys"] if isinstance(key, dict) and key.get("kty") in _KEY_TYPES]
    usable = [key for key in keys if key.get("use", "sig") == "sig"]
    try:
        return KeySet.import_key_set({"keys": usable})
    except (JoseError, ValueError) as error:
        raise InvalidIdToken("bad_jwks", f"the provider's JWKS cannot be read: {error}") from None


def token_header(token: str) -> dict[str, Any]:
    """The header of a compact JWS, unverified (to pick the key), after size and algorithm checks."""
    if len(token) > _MAX_TOKEN_BYTES:
        raise InvalidIdToken("malformed", "ID token too large")
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError as error:
        raise InvalidIdToken("malformed", f"ID token header cannot be parsed: {error}") from None
    if not isinstance(header, dict) or token.count(".") != 2:
        raise InvalidIdToken("malformed", "ID token is not a compact JWS")
    if header.get("alg") not in ALGORITHMS:
        raise InvalidIdToken("alg_not_allowed", f"ID token algorithm {header.get('alg')!r} is not allowed")
    return header


def key_for(header: dict[str, Any], keys: KeySet) -> RSAKey | ECKey | None:
    """The provider key the header names (by ``kid``; the only key of the right type when none)."""
    kid, wanted = header.get("kid"), "RSA" if header["alg"].startswith("RS") else "EC"
    candidates = [key for key in keys.keys if key.key_type == wanted]
    if kid is not None:
        candidates = [key for key in candidates if key.kid == kid]
    found = candidates[0] if len(candidates) == 1 else None
    return found if isinstance(found, RSAKey | ECKey) else None


def verify_id_token(token: str, *, key: RSAKey | ECKey, expect: Expectations) -> IdTokenClaims:
    """The claims of a valid ID token; :class:`InvalidIdToken` with the reason otherwise."""
    try:
        claims = jwt.decode(token, key, algorithms=list(ALGORITHMS)).claims
    except BadSignatureError:
        raise InvalidIdToken("bad_signature", "ID token signature does not verify") from None
    except JoseError as error:
        raise InvalidIdToken("malformed", f"ID token rejected: {error}") from None
    _check_registered_claims(claims, expect)
    _check_audience(claims, expect.client_id)
    _check_nonce(claims, expect.nonce_hash)
    return _claims(claims)


def _check_registered_claims(claims: dict[str, Any], expect: Expectations) -> None:
    registry = jwt.JWTClaimsRegistry(
        now=expect.now,
        leeway=expect.skew,
        iss={"essential": True, "value": expect.issuer},
        sub={"essential": True},
        aud={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise InvalidIdToken("expired", "ID token has expired") from None
    except MissingClaimError as error:
        raise InvalidIdToken("missing_claim", str(error)) from None
    except InvalidClaimError as error:
        reason = "wrong_issuer" if error.claim == "iss" else "invalid_claim"
        raise InvalidIdToken(reason, str(error)) from None
    if expect.now - claims["iat"] > expect.max_age + expect.skew:
        raise InvalidIdToken("too_old", "ID token was issued too long ago")


def _check_audience(claims: dict[str, Any], client_id: str) -> None:
    audience = claims["aud"]
    audiences = [audience] if isinstance(audience, str) else list(audience)
    if client_id not in audiences:
        raise InvalidIdToken("wrong_audience", "ID token is meant for another client")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise InvalidIdToken("wrong_audience", "ID token has several audiences and another azp")


def _check_nonce(claims: dict[str, Any], nonce_hash: str) -> None:
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(digest(nonce), nonce_hash):
        raise InvalidIdToken("nonce_mismatch", "ID token nonce is not the one this sign-in sent")


def _claims(claims: dict[str, Any]) -> IdTokenClaims:
    email, amr, acr = claims.get("email"), claims.get("amr"), claims.get("acr")
    return IdTokenClaims(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=email if isinstance(email, str) else None,
        email_verified=claims.get("email_verified") is True,
        amr=[str(value) for value in amr] if isinstance(amr, list) else [],
        acr=acr if isinstance(acr, str) else None,
        claims=claims,
    )
