"""Field encryption: AES-256-GCM under the subject's data key, bound to the field name by AAD.

Format: ``enc:v1:<key_id>:<base64url(nonce || ciphertext || tag)>`` with a random 96-bit nonce.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shopsight.errors import CorruptData
from shopsight.privacy.aead import NONCE_BYTES, open_sealed, seal
from shopsight.privacy.keystore import DataKeyStore

PREFIX = "enc:v1:"


def _aad(field: str, key_id: str) -> bytes:
    return f"{field}|{key_id}".encode()


def encrypt_value(keys: DataKeyStore, value: str, *, subject: str, field: str) -> str:
    """Encrypt ``value`` for ``subject`` as a compact string."""
    key_id, cipher = keys.cipher_for_subject(subject)
    return encrypt_with(cipher, key_id, value, field=field)


def encrypt_with(cipher: AESGCM, key_id: str, value: str, *, field: str) -> str:
    """Encrypt ``value`` under an already looked-up data key (one lookup serves a whole event)."""
    sealed = seal(cipher, os.urandom(NONCE_BYTES), value.encode(), _aad(field, key_id))
    return f"{PREFIX}{key_id}:{base64.urlsafe_b64encode(sealed).decode()}"


def decrypt_value(keys: DataKeyStore, token: str, *, field: str) -> str:
    """Decrypt a value made by :func:`encrypt_value` for the same field."""
    if not is_encrypted(token):
        raise CorruptData("not an encrypted value")
    key_id, _, body = token.removeprefix(PREFIX).partition(":")
    sealed = base64.urlsafe_b64decode(body.encode())
    try:
        plain = open_sealed(AESGCM(keys.key_by_id(key_id)), sealed, _aad(field, key_id))
    except InvalidTag as exc:
        raise CorruptData(f"ciphertext of {field} failed authentication") from exc
    return plain.decode()


def is_encrypted(value: object) -> bool:
    """Whether ``value`` is a ciphertext string of this module."""
    return isinstance(value, str) and value.startswith(PREFIX)
