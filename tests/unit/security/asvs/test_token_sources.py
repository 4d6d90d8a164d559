"""Access tokens (ASVS V9.1.3, V9.2.1): keys named in a token's header are never trusted, and ``nbf``
and ``exp`` bound when a token is accepted."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shopsight.security.tokens import ALGORITHMS, AUDIENCE, ISSUER, InvalidToken, TokenIssuer

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def issuer(key: Ed25519PrivateKey) -> TokenIssuer:
    return TokenIssuer(key, clock=lambda: NOW)


def _claims(**changes: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "key-1", "scope": "kpis:read", "iat": NOW, "nbf": NOW,
        "exp": NOW + timedelta(minutes=15), "jti": "j-1",
    }  # fmt: skip
    return {**claims, **changes}


def _public_jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()}


@pytest.mark.parametrize(
    "header",
    [
        {"jwk": "embedded"},
        {"jku": "https://evil.example/jwks.json"},
        {"x5u": "https://evil.example/cert.pem"},
        {"kid": "../../../../dev/null"},
    ],
)
def test_keys_named_in_the_token_header_are_ignored(issuer: TokenIssuer, header: dict[str, str]) -> None:
    """V9.1.3: an attacker's own key, embedded or linked from the header, verifies nothing."""
    attacker = Ed25519PrivateKey.generate()
    headers: dict[str, object] = dict(header)
    if header.get("jwk") == "embedded":
        headers["jwk"] = _public_jwk(attacker)
    forged = jwt.encode(_claims(), attacker, algorithm=ALGORITHMS[0], headers=headers)
    assert json.loads(base64.urlsafe_b64decode(forged.split(".")[0] + "==")).keys() >= header.keys()
    with pytest.raises(InvalidToken):
        issuer.verify(forged)


def test_a_not_yet_valid_token_is_refused(issuer: TokenIssuer, key: Ed25519PrivateKey) -> None:
    """V9.2.1: ``nbf`` in the future (beyond the 30 s leeway) is refused, like an expired ``exp``; the
    tokens are signed with the issuer's own key, so only the times differ."""
    early = jwt.encode(_claims(nbf=datetime.now(UTC) + timedelta(minutes=5)), key, algorithm=ALGORITHMS[0])
    with pytest.raises(InvalidToken, match="not yet valid"):
        issuer.verify(early)
    late = jwt.encode(_claims(exp=datetime.now(UTC) - timedelta(minutes=5)), key, algorithm=ALGORITHMS[0])
    with pytest.raises(InvalidToken, match="expired"):
        issuer.verify(late)
    fresh = datetime.now(UTC)
    times = {"iat": fresh, "nbf": fresh, "exp": fresh + timedelta(minutes=5)}
    good = jwt.encode(_claims(**times), key, algorithm=ALGORITHMS[0])
    assert issuer.verify(good).subject == "key-1"
