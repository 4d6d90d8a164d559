"""KEKs on a PKCS#11 token (an HSM; SoftHSM2 in tests): generated on the token, never extractable.

Each KEK version is an AES-256 secret key object labelled ``<key_label>-v<version>`` with CKA_SENSITIVE
set and CKA_EXTRACTABLE cleared, usable for encrypt/decrypt only. Data keys are wrapped by CKM_AES_GCM on
the token (supported by SoftHSM2 >= 2.2 and common HSMs) in the same ``nonce || ciphertext || tag`` layout
as the keyfile, with the caller's AAD bound in. The highest version on the token is the active one.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast

import pkcs11
from cryptography.exceptions import InvalidTag
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11.exceptions import (
    EncryptedDataInvalid,
    EncryptedDataLenRange,
    GeneralError,
    NoSuchToken,
    PinIncorrect,
    PKCS11Error,
)
from pkcs11.mechanisms import GCMParams
from pydantic import SecretStr

from shopsight.errors import ConfigError, ShopSightError
from shopsight.privacy.aead import NONCE_BYTES
from shopsight.privacy.settings import KekSettings

TAG_BITS = 128
REFRESH_SECONDS = (
    30.0  # how stale this process's view of the active version may get after a rotation elsewhere
)
# SoftHSM2 reports a GCM tag mismatch as CKR_GENERAL_ERROR, other tokens as CKR_ENCRYPTED_DATA_INVALID.
_AUTHENTICATION_FAILURES = (EncryptedDataInvalid, EncryptedDataLenRange, GeneralError)


class KekUnavailable(ShopSightError):
    """The PKCS#11 token could not be used (removed, logged out, out of memory...)."""


class _TokenKey(Protocol):
    """What we use of a python-pkcs11 secret key object (its mixins are not visible to the type checker)."""

    def encrypt(self, data: bytes, *, mechanism: Mechanism, mechanism_param: GCMParams) -> bytes: ...

    def decrypt(self, data: bytes, *, mechanism: Mechanism, mechanism_param: GCMParams) -> bytes: ...


@dataclass(frozen=True)
class TokenSession:
    """The process's logged-in session on one token, and the lock that serializes its use."""

    session: pkcs11.Session
    lock: threading.Lock = field(default_factory=threading.Lock)


# PKCS#11 login state belongs to the process, not to a session: a second C_Login fails and closing any
# logged-in session logs every session out. So a process holds exactly one session per token, shared by
# every provider on it and kept until exit (python-pkcs11 likewise keeps one loaded library per module).
_SESSIONS: dict[tuple[str, str], TokenSession] = {}
_SESSIONS_LOCK = threading.Lock()


def open_token_session(settings: KekSettings) -> TokenSession:
    """The logged-in read/write session on the configured token; configuration mistakes become ConfigError."""
    module = settings.pkcs11_module
    if not module.is_file():
        raise ConfigError(f"PKCS#11 module {module} does not exist (kek.pkcs11_module)")
    if settings.pkcs11_pin is None:
        raise ConfigError("no PKCS#11 user PIN: export SHOPSIGHT_KEK__PKCS11_PIN")
    with _SESSIONS_LOCK:
        where = (str(module.resolve()), settings.pkcs11_token_label)
        if where not in _SESSIONS:
            _SESSIONS[where] = TokenSession(_log_in(module, settings.pkcs11_token_label, settings.pkcs11_pin))
        return _SESSIONS[where]


def _log_in(module: Path, label: str, pin: SecretStr) -> pkcs11.Session:
    try:
        token = pkcs11.lib(str(module)).get_token(token_label=label)
        return token.open(rw=True, user_pin=pin.get_secret_value())
    except NoSuchToken as exc:
        raise ConfigError(f"no PKCS#11 token labelled {label!r} in {module}") from exc
    except PinIncorrect as exc:
        raise ConfigError(f"PKCS#11 login to {label!r} failed: wrong PIN") from exc


class Pkcs11Kek:
    """KEK provider on a PKCS#11 token, over the process's shared session for that token."""

    provider_name = "pkcs11"

    def __init__(self, *, session: TokenSession, key_label: str = "shopsight-kek") -> None:
        self._session = session.session
        self._key_label = key_label
        self._lock = session.lock  # sessions are not thread-safe: one lock per session, not per provider
        self._keys: dict[int, _TokenKey] = {}
        self._refreshed_at = 0.0
        with self._lock:
            self._refresh()
            if not self._keys:
                self._generate(1)

    @classmethod
    def from_settings(cls, settings: KekSettings) -> Pkcs11Kek:
        """The provider for the configured module, token and PIN."""
        return cls(session=open_token_session(settings), key_label=settings.pkcs11_key_label)

    @property
    def active_version(self) -> int:
        """The highest KEK version on the token."""
        with self._lock:
            return max(self._keys)

    def versions(self) -> list[int]:
        """Every KEK version on the token, ascending (re-read, so rotations by others show up)."""
        with self._lock:
            self._refresh()
            return sorted(self._keys)

    def wrap(self, key: bytes, aad: bytes) -> tuple[int, bytes]:
        """AES-GCM-encrypt ``key`` on the token under the active KEK; returns (version, nonce||ct||tag)."""
        nonce = os.urandom(NONCE_BYTES)
        with self._lock:
            if time.monotonic() - self._refreshed_at > REFRESH_SECONDS:
                self._refresh()  # pick up a rotation made by another process (e.g. `shopsight keys rotate`)
            version = max(self._keys)
            sealed = self._call(self._keys[version].encrypt, key, nonce, aad)
        return version, nonce + sealed

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        """Decrypt on the token; raises InvalidTag when the wrapping or the AAD does not authenticate."""
        nonce, sealed = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
        with self._lock:
            kek = self._key(version)
            try:
                return self._call(kek.decrypt, sealed, nonce, aad)
            except _AUTHENTICATION_FAILURES as exc:
                raise InvalidTag() from exc

    def rotate(self) -> int:
        """Generate the next KEK version on the token and make it active."""
        with self._lock:
            self._refresh()  # another process may have rotated since
            version = max(self._keys, default=0) + 1
            self._generate(version)
            return version

    def _call(self, operation: Callable[..., bytes], data: bytes, nonce: bytes, aad: bytes) -> bytes:
        params = GCMParams(nonce, aad, TAG_BITS)
        try:
            return bytes(operation(data, mechanism=Mechanism.AES_GCM, mechanism_param=params))
        except _AUTHENTICATION_FAILURES:
            raise
        except PKCS11Error as exc:
            raise KekUnavailable(f"PKCS#11 token operation failed: {type(exc).__name__}") from exc

    def _key(self, version: int) -> _TokenKey:
        if version not in self._keys:
            self._refresh()  # rotated by another process since we last looked
        if version not in self._keys:
            raise ConfigError(f"KEK version {version} ({self._label(version)}) is not on the token")
        return self._keys[version]

    def _label(self, version: int) -> str:
        return f"{self._key_label}-v{version}"

    def _refresh(self) -> None:
        pattern = re.compile(rf"{re.escape(self._key_label)}-v(\d+)")
        query = {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES}
        found: dict[int, _TokenKey] = {}
        for obj in self._session.get_objects(query):
            match = pattern.fullmatch(str(obj[Attribute.LABEL]))
            if match:
                found[int(match.group(1))] = cast(_TokenKey, obj)
        self._keys, self._refreshed_at = found, time.monotonic()

    def _generate(self, version: int) -> None:
        self._keys[version] = cast(
            _TokenKey,
            self._session.generate_key(
                KeyType.AES,
                256,
                id=str(version).encode(),
                label=self._label(version),
                store=True,  # a token object: it survives the session
                capabilities=MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT,
                template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.PRIVATE: True},
            ),
        )
