"""Short-lived access tokens (JWT) for machines that exchanged an API key, signed with Ed25519.

Verification hard-codes the one algorithm we sign with (EdDSA) — never the token's own ``alg`` header —
so ``alg=none`` and the HS256-with-the-public-key confusion are refused, and it requires ``exp``,
``iat``, ``aud``, ``iss`` and ``sub``: an expired token, another audience or a changed payload fails.
PyJWT does the work (RFC 7519 / 8037); the signing key lives in the key-store folder with mode 0600.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict

from shopsight.errors import ConfigError, ShopSightError

ALGORITHMS = ["EdDSA"]  # the allowlist: whatever a token's header claims, only this verifies
ISSUER = "shopsight"
AUDIENCE = "shopsight-api"
KEY_FILE = "jwt-signing-key.pem"
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "aud", "iss", "sub", "jti"]
LEEWAY = timedelta(seconds=30)
# Verified tokens remembered per issuer, so a machine's next calls skip the signature check (a third of a
# request's cost): a token is immutable, and its expiry is still checked on every use.
VERIFIED_CACHE_SIZE = 10_000


class InvalidToken(ShopSightError):
    """A token that is malformed, forged, expired or meant for someone else."""


class TokenClaims(BaseModel):
    """What a verified access token says."""

    model_config = ConfigDict(frozen=True)

    subject: str  # the API key id (or user id) the token was issued to
    scopes: list[str]
    expires_at: datetime
    token_id: str


def load_signing_key(folder: Path) -> Ed25519PrivateKey:
    """The Ed25519 key in ``folder`` (created with mode 0600 on first use)."""
    path = folder / KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return load_signing_key(folder)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path} is readable by group or others (mode {mode:o}); chmod 600 it")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 key")
    return key


class TokenIssuer:
    """Issues and verifies access tokens with one Ed25519 key."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        *,
        lifetime: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._key = key
        self.public_key: Ed25519PublicKey = key.public_key()
        self._lifetime = lifetime
        self._clock = clock
        self._verified: dict[str, TokenClaims] = {}

    @property
    def lifetime(self) -> timedelta:
        """How long an issued token is valid."""
        return self._lifetime

    def issue(self, subject: str, scopes: list[str]) -> str:
        """A signed token for ``subject`` with ``scopes``, valid for the configured lifetime."""
        now = self._clock()
        claims = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": subject, "scope": " ".join(scopes),
            "iat": now, "nbf": now, "exp": now + self._lifetime, "jti": secrets.token_urlsafe(16),
        }  # fmt: skip
        return jwt.encode(claims, self._key, algorithm=ALGORITHMS[0])

    def verify(self, token: str) -> TokenClaims:
        """The claims of a valid token; :class:`InvalidToken` (with the reason) otherwise."""
        known = self._verified.get(token)
        if known is not None:
            if datetime.now(UTC) < known.expires_at + LEEWAY:  # the same test PyJWT applies
                return known
            self._verified.pop(token, None)
        claims = self._decode(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = claims
        return claims

    def _decode(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self.public_key,
                algorithms=ALGORITHMS,
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": REQUIRED_CLAIMS},
                leeway=LEEWAY,
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(f"invalid access token: {error}") from None
        return TokenClaims(
            subject=str(claims["sub"]),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            token_id=str(claims["jti"]),
        )
