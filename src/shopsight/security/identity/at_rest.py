"""How identity keeps secrets at rest: keyed digests for what is only compared, envelope encryption for
what must be read back (TOTP secrets).

* Recovery codes, API key secrets and source addresses are stored as HMAC-SHA256 under the keyring's
  ``identity_key`` with a purpose prefix (domain separation), so a stolen metadata store yields nothing
  to replay and nothing to brute-force offline without the keyfile.
* A TOTP secret is sealed with AES-256-GCM under a fresh data key bound to the user id (AAD); the data
  key is wrapped by the keyring's active KEK, so a KEK rotation re-wraps keys, not secrets.
  Format: ``v1:<kek version>:<b64 wrapped key>:<b64 nonce||ciphertext||tag>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shopsight.errors import CorruptData
from shopsight.privacy.keyring import Keyring

IDENTITY_KEY = "identity_key"


def keyed_digest(key: bytes, *, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for one purpose, as hex."""
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def digests_equal(left: str, right: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(left.encode(), right.encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _aad(owner: str) -> bytes:
    return f"shopsight.identity.totp|{owner}".encode()


def seal_secret(keyring: Keyring, secret: str, *, owner: str) -> str:
    """Encrypt ``secret`` for ``owner`` (a user id) under a new data key wrapped by the active KEK."""
    data_key = AESGCM.generate_key(bit_length=256)
    version, wrapped = keyring.wrap(data_key, _aad(owner))
    nonce = os.urandom(12)
    sealed = nonce + AESGCM(data_key).encrypt(nonce, secret.encode(), _aad(owner))
    return f"v1:{version}:{_b64(wrapped)}:{_b64(sealed)}"


def open_secret(keyring: Keyring, token: str, *, owner: str) -> str:
    """Decrypt a value of :func:`seal_secret` made for the same ``owner``."""
    tag, version, wrapped, sealed = token.split(":")
    if tag != "v1":
        raise CorruptData("unknown sealed-secret format")
    try:
        data_key = keyring.unwrap(int(version), base64.urlsafe_b64decode(wrapped), _aad(owner))
        raw = base64.urlsafe_b64decode(sealed)
        return AESGCM(data_key).decrypt(raw[:12], raw[12:], _aad(owner)).decode()
    except InvalidTag as exc:
        raise CorruptData("sealed secret failed authentication") from exc
