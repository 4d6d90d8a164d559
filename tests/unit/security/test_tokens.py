"""Access tokens: the JWT attacks the issue lists are refused, each for its own reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shopsight.errors import ConfigError
from shopsight.security.tokens import AUDIENCE, ISSUER, LEEWAY, InvalidToken, TokenIssuer, load_signing_key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "key_1", "scope": "kpis:read", "iat": now, "nbf": now,
              "exp": now + 600, "jti": "t1"}  # fmt: skip
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


@pytest.fixture
def issuer(tmp_path: Path) -> TokenIssuer:
    return TokenIssuer(load_signing_key(tmp_path / "keys"))


def test_a_token_round_trips(issuer: TokenIssuer) -> None:
    claims = issuer.verify(issuer.issue("key_1", ["kpis:read", "marts:read"]))
    assert claims.subject == "key_1" and claims.scopes == ["kpis:read", "marts:read"]
    assert claims.expires_at > datetime.now(UTC)


def test_alg_none_is_refused(issuer: TokenIssuer) -> None:
    for alg in ("none", "None", "NONE"):
        token = _unsigned({"alg": alg, "typ": "JWT"}, _claims()) + "."
        with pytest.raises(InvalidToken):
            issuer.verify(token)


def test_hs256_signed_with_the_public_key_is_refused(issuer: TokenIssuer) -> None:
    public = issuer.public_key
    for secret in (
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
    ):
        signing_input = _unsigned({"alg": "HS256", "typ": "JWT"}, _claims())
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        with pytest.raises(InvalidToken, match="alg value is not allowed"):
            issuer.verify(f"{signing_input}.{_b64(signature)}")


def test_an_expired_token_is_refused(tmp_path: Path) -> None:
    key = load_signing_key(tmp_path / "keys")
    past = TokenIssuer(key, clock=lambda: datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(InvalidToken, match="expired"):
        TokenIssuer(key).verify(past.issue("key_1", []))


def test_another_audience_or_issuer_is_refused(issuer: TokenIssuer, tmp_path: Path) -> None:
    key = load_signing_key(tmp_path / "keys")
    with pytest.raises(InvalidToken, match=r"(?i)audience"):
        issuer.verify(jwt.encode(_claims(aud="grafana"), key, algorithm="EdDSA"))
    with pytest.raises(InvalidToken, match=r"(?i)issuer"):
        issuer.verify(jwt.encode(_claims(iss="someone-else"), key, algorithm="EdDSA"))


def test_a_tampered_payload_is_refused(issuer: TokenIssuer) -> None:
    header, _payload, signature = issuer.issue("key_1", ["kpis:read"]).split(".")
    forged = _b64(json.dumps(_claims(scope="kpis:read users:admin")).encode())
    with pytest.raises(InvalidToken, match="Signature"):
        issuer.verify(f"{header}.{forged}.{signature}")


def test_another_key_or_a_missing_claim_is_refused(issuer: TokenIssuer, tmp_path: Path) -> None:
    with pytest.raises(InvalidToken, match="Signature"):
        issuer.verify(jwt.encode(_claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA"))
    key = load_signing_key(tmp_path / "keys")
    for missing in ("exp", "aud", "sub", "jti"):
        with pytest.raises(InvalidToken):
            issuer.verify(jwt.encode(_claims(**{missing: None}), key, algorithm="EdDSA"))


def test_the_signing_key_file_is_private(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    first = load_signing_key(folder)
    path = folder / "jwt-signing-key.pem"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_signing_key(folder).public_key() == first.public_key()  # the same key next time
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_signing_key(folder)


def test_a_remembered_token_still_expires(tmp_path: Path) -> None:
    key = load_signing_key(tmp_path / "keys")
    lifetime = timedelta(minutes=15)
    # Issued so that, leeway included, it stops being valid about two seconds from now.
    issued = datetime.now(UTC) - lifetime - LEEWAY + timedelta(seconds=2)
    token = TokenIssuer(key, lifetime=lifetime, clock=lambda: issued).issue("key_1", [])
    verifier = TokenIssuer(key)
    assert verifier.verify(token).subject == "key_1"
    assert verifier.verify(token).subject == "key_1"  # the second answer comes from the verified cache
    time.sleep(3)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)
