"""Versioned key-encryption keys (KEKs) and HMAC keys in a local keyfile created with mode 0600.

The keyfile is the embedded default; an HSM-backed provider implements the same ``wrap``/``unwrap``.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from pathlib import Path
from typing import cast

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shopsight.errors import ConfigError

KEYFILE = "keyring.json"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode())


class Keyring:
    """KEK versions (AES-256) plus the blind-index and token-vault HMAC keys."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._path = folder / KEYFILE
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self._path.exists():
            self._create()
        self._data = self._load()

    def _create(self) -> None:
        data = {
            "active": 1,
            "keks": {"1": _b64(AESGCM.generate_key(bit_length=256))},
            "blind_index_key": _b64(os.urandom(32)),
            "vault_lookup_key": _b64(os.urandom(32)),
        }
        self._write(data, exclusive=True)

    def _write(self, data: dict[str, object], *, exclusive: bool) -> None:
        tmp = self._path.with_suffix(".tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (os.O_EXCL if exclusive else 0)
        fd = os.open(tmp, flags, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._path)

    def _load(self) -> dict[str, object]:
        mode = stat.S_IMODE(self._path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(f"{self._path} is readable by group or others (mode {mode:o}); chmod 600 it")
        loaded: dict[str, object] = json.loads(self._path.read_text())
        return loaded

    @property
    def active_version(self) -> int:
        """The KEK version new data keys are wrapped with."""
        return int(str(self._data["active"]))

    def _kek(self, version: int) -> AESGCM:
        keks = cast(dict[str, str], self._data["keks"])
        return AESGCM(_unb64(keks[str(version)]))

    def hmac_key(self, name: str) -> bytes:
        """One of the HMAC keys ('blind_index_key' or 'vault_lookup_key')."""
        return _unb64(str(self._data[name]))

    def named_hmac_key(self, name: str) -> bytes:
        """A 256-bit HMAC key kept under ``name`` (e.g. 'identity_key'), created on first use."""
        with self._lock:
            if name not in self._data:
                self._data = self._load()  # another process may have created it meanwhile
            if name not in self._data:
                self._data = {**self._data, name: _b64(os.urandom(32))}
                self._write(self._data, exclusive=False)
        return self.hmac_key(name)

    def wrap(self, key: bytes, aad: bytes) -> tuple[int, bytes]:
        """Encrypt a data key under the active KEK; returns (version, nonce||ciphertext)."""
        version = self.active_version
        nonce = os.urandom(12)
        return version, nonce + self._kek(version).encrypt(nonce, key, aad)

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        """Decrypt a data key wrapped by KEK ``version``."""
        return self._kek(version).decrypt(wrapped[:12], wrapped[12:], aad)

    def rotate(self) -> int:
        """Add a new KEK version and make it active; old versions stay for unwrapping."""
        with self._lock:
            keks = dict(cast(dict[str, str], self._data["keks"]))
            version = max(int(v) for v in keks) + 1
            keks[str(version)] = _b64(AESGCM.generate_key(bit_length=256))
            self._data = {**self._data, "keks": keks, "active": version}
            self._write(self._data, exclusive=False)
        return version
