"""Versioned key-encryption keys (KEKs) and HMAC keys in a local keyfile created with mode 0600.

The keyfile always holds the HMAC keys. It holds the KEKs too unless an external provider (a PKCS#11
token, see :mod:`shopsight.privacy.hsm`) is configured; :class:`Keyring` then delegates ``wrap``/``unwrap``
/``rotate`` to it, so every caller stays unaware of where the KEKs live.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shopsight.errors import ConfigError
from shopsight.privacy.aead import open_sealed, seal
from shopsight.privacy.kek import KekProvider

KEYFILE = "keyring.json"
Document = dict[str, object]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode())


class Keyfile:
    """The JSON keyfile: read (re-read when another process changed it) and updated under a file lock."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = folder / KEYFILE
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._data: Document = {}
        with self._exclusive():
            if not self.path.exists():
                fresh: Document = {
                    "blind_index_key": _b64(os.urandom(32)),
                    "vault_lookup_key": _b64(os.urandom(32)),
                }
                self._write(fresh)

    def read(self) -> Document:
        """The current document (re-read only when the file changed since the last read)."""
        info = self.path.stat()
        stamp = (info.st_ino, info.st_mtime_ns)  # every write renames a new file into place
        if stamp != self._stamp:
            with self._lock:
                self._data, self._stamp = self._load(), stamp
        return self._data

    def update(self, change: Callable[[Document], Document | None]) -> Document:
        """Apply ``change`` to the freshest document and write it if it returned a new one."""
        with self._exclusive():
            self._stamp = None  # force a re-read: another process may have written since
            changed = change(dict(self.read()))
            if changed is not None:
                self._write(changed)
            return self.read()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        # A lock file, not the keyfile itself: the keyfile is replaced by rename on every write.
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, data: Document) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def _load(self) -> Document:
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(f"{self.path} is readable by group or others (mode {mode:o}); chmod 600 it")
        loaded: Document = json.loads(self.path.read_text())
        return loaded


class KeyfileKek:
    """KEK provider over the keyfile: AES-256-GCM KEKs under ``keks`` with the active one under ``active``."""

    provider_name = "keyfile"

    def __init__(self, keyfile: Keyfile) -> None:
        self._keyfile = keyfile
        if "keks" not in keyfile.read():
            keyfile.update(lambda doc: None if "keks" in doc else {**doc, **self._first_version()})

    @staticmethod
    def _first_version() -> Document:
        return {"active": 1, "keks": {"1": _b64(AESGCM.generate_key(bit_length=256))}}

    def _keks(self) -> dict[str, str]:
        return cast(dict[str, str], self._keyfile.read()["keks"])

    @property
    def active_version(self) -> int:
        """The KEK version new data keys are wrapped with."""
        return int(str(self._keyfile.read()["active"]))

    def versions(self) -> list[int]:
        """Every KEK version in the keyfile, ascending."""
        return sorted(int(v) for v in self._keks())

    def _kek(self, version: int) -> AESGCM:
        material = self._keks().get(str(version))
        if material is None:
            raise ConfigError(f"KEK version {version} is not in the keyfile")
        return AESGCM(_unb64(material))

    def wrap(self, key: bytes, aad: bytes) -> tuple[int, bytes]:
        """Encrypt a data key under the active KEK; returns (version, nonce||ciphertext||tag)."""
        version = self.active_version
        return version, seal(self._kek(version), os.urandom(12), key, aad)

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        """Decrypt a data key wrapped by KEK ``version``."""
        return open_sealed(self._kek(version), wrapped, aad)

    def rotate(self) -> int:
        """Add a new KEK version and make it active; old versions stay for unwrapping."""

        def add_version(doc: Document) -> Document:
            keks = dict(cast(dict[str, str], doc["keks"]))
            version = max(int(v) for v in keks) + 1
            keks[str(version)] = _b64(AESGCM.generate_key(bit_length=256))
            return {**doc, "keks": keks, "active": version}

        return int(str(self._keyfile.update(add_version)["active"]))


class Keyring:
    """The HMAC keys (blind index, token vault, identity) plus the KEKs of the configured provider.

    It is itself a :class:`~shopsight.privacy.kek.KekProvider` (delegating to ``kek``), so data-key stores
    and sealed secrets work the same over the keyfile and over an HSM.
    """

    def __init__(self, folder: Path, *, kek: KekProvider | None = None) -> None:
        self.folder = folder
        self._keyfile = Keyfile(folder)
        self.kek: KekProvider = kek if kek is not None else KeyfileKek(self._keyfile)

    @property
    def provider_name(self) -> str:
        """Name of the provider holding the KEKs."""
        return self.kek.provider_name

    @property
    def active_version(self) -> int:
        """The KEK version new data keys are wrapped with."""
        return self.kek.active_version

    def versions(self) -> list[int]:
        """Every KEK version that can still unwrap, ascending."""
        return self.kek.versions()

    def wrap(self, key: bytes, aad: bytes) -> tuple[int, bytes]:
        """Encrypt a data key under the active KEK; returns (version, wrapped)."""
        return self.kek.wrap(key, aad)

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        """Decrypt a data key wrapped by KEK ``version``."""
        return self.kek.unwrap(version, wrapped, aad)

    def rotate(self) -> int:
        """Add a new KEK version and make it active; old versions stay for unwrapping."""
        return self.kek.rotate()

    def hmac_key(self, name: str) -> bytes:
        """One of the HMAC keys ('blind_index_key' or 'vault_lookup_key')."""
        return _unb64(str(self._keyfile.read()[name]))

    def named_hmac_key(self, name: str) -> bytes:
        """A 256-bit HMAC key kept under ``name`` (e.g. 'identity_key'), created on first use."""
        if name not in self._keyfile.read():
            self._keyfile.update(lambda doc: None if name in doc else {**doc, name: _b64(os.urandom(32))})
        return self.hmac_key(name)
