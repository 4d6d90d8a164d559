"""Per-customer data keys (DEKs), wrapped by the keyring's KEK and kept in SQLite beside it.

Deleting a customer's DEK makes every ciphertext under it unreadable: erasure by crypto-shredding.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict

from shopsight.errors import ShopSightError
from shopsight.privacy.keyring import Keyring


class KeyShredded(ShopSightError):
    """The data key was deleted (crypto-shredded) or never existed."""


class DataKeyStore:
    """Creates, caches and shreds 256-bit data keys, one per subject."""

    def __init__(self, keyring: Keyring, cache_size: int = 100_000) -> None:
        self._keyring = keyring
        self._db = sqlite3.connect(keyring.folder / "datakeys.sqlite", check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS data_keys (key_id TEXT PRIMARY KEY, subject TEXT UNIQUE NOT NULL,"
            " kek_version INTEGER NOT NULL, wrapped BLOB NOT NULL)"
        )
        self._db.commit()
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._ids: dict[str, str] = {}
        self._cache_size = cache_size

    def key_for_subject(self, subject: str) -> tuple[str, bytes]:
        """(key id, key) of the subject's data key, created on first use."""
        with self._lock:
            key_id = self._ids.get(subject)
            if key_id is None:
                key_id = self._find_or_create(subject)
                self._ids[subject] = key_id
        return key_id, self.key_by_id(key_id)

    def _find_or_create(self, subject: str) -> str:
        row = self._db.execute("SELECT key_id FROM data_keys WHERE subject = ?", (subject,)).fetchone()
        if row:
            return str(row[0])
        key_id = os.urandom(12).hex()
        version, wrapped = self._keyring.wrap(os.urandom(32), key_id.encode())
        self._db.execute("INSERT INTO data_keys VALUES (?, ?, ?, ?)", (key_id, subject, version, wrapped))
        self._db.commit()
        return key_id

    def key_by_id(self, key_id: str) -> bytes:
        """Unwrapped key for ``key_id`` (LRU-cached)."""
        with self._lock:
            cached = self._cache.get(key_id)
            if cached is not None:
                self._cache.move_to_end(key_id)
                return cached
            row = self._db.execute(
                "SELECT kek_version, wrapped FROM data_keys WHERE key_id = ?", (key_id,)
            ).fetchone()
            if row is None:
                raise KeyShredded(f"data key {key_id} does not exist (shredded?)")
            key = self._keyring.unwrap(int(row[0]), bytes(row[1]), key_id.encode())
            self._cache[key_id] = key
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return key

    def shred(self, subject: str) -> int:
        """Delete the subject's data key; returns how many keys were deleted."""
        with self._lock:
            rows = self._db.execute("SELECT key_id FROM data_keys WHERE subject = ?", (subject,)).fetchall()
            self._db.execute("DELETE FROM data_keys WHERE subject = ?", (subject,))
            self._db.commit()
            self._ids.pop(subject, None)
            for (key_id,) in rows:
                self._cache.pop(key_id, None)
        return len(rows)

    def rewrap_all(self) -> int:
        """Re-wrap every data key under the active KEK (no data is re-encrypted)."""
        with self._lock:
            rows = self._db.execute("SELECT key_id, kek_version, wrapped FROM data_keys").fetchall()
            for key_id, version, wrapped in rows:
                key = self._keyring.unwrap(int(version), bytes(wrapped), key_id.encode())
                new_version, new_wrapped = self._keyring.wrap(key, key_id.encode())
                self._db.execute(
                    "UPDATE data_keys SET kek_version = ?, wrapped = ? WHERE key_id = ?",
                    (new_version, new_wrapped, key_id),
                )
            self._db.commit()
        return len(rows)

    def kek_versions_in_use(self) -> set[int]:
        """KEK versions still referenced by some data key."""
        with self._lock:
            return {int(v) for (v,) in self._db.execute("SELECT DISTINCT kek_version FROM data_keys")}
