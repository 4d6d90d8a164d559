"""Per-customer data keys (DEKs), wrapped by the keyring's KEK and kept in SQLite beside it.

Deleting a customer's DEK makes every ciphertext under it unreadable: erasure by crypto-shredding.
A new key is committed (WAL, ``synchronous=FULL``) before anything is encrypted under it, so no durable
ciphertext can outlive a crash that loses its key; :meth:`DataKeyStore.ensure_subjects` creates the keys
of a whole batch in one transaction, i.e. one fsync instead of one per new customer.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shopsight.errors import ShopSightError
from shopsight.privacy.kek import KekProvider


class KeyShredded(ShopSightError):
    """The data key was deleted (crypto-shredded) or never existed."""


class KeyringLike(KekProvider, Protocol):
    """A KEK provider with a folder for the data-key database, i.e. a :class:`~.keyring.Keyring`."""

    @property
    def folder(self) -> Path:
        """Where ``datakeys.sqlite`` lives."""
        ...


class DataKeyStore:
    """Creates, caches and shreds 256-bit data keys, one per subject."""

    def __init__(self, keyring: KeyringLike, cache_size: int = 100_000) -> None:
        self._keyring = keyring
        self._db = sqlite3.connect(keyring.folder / "datakeys.sqlite", check_same_thread=False)
        # WAL: one fsync per commit instead of the rollback journal's several; FULL keeps commits durable.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA secure_delete=ON")  # deleted keys are zeroed, not left in free pages
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS data_keys (key_id TEXT PRIMARY KEY, subject TEXT UNIQUE NOT NULL,"
            " kek_version INTEGER NOT NULL, wrapped BLOB NOT NULL)"
        )
        self._db.commit()
        # Two locks, always taken in this order: _lock guards the database, _cache_lock the in-memory
        # caches, so a cache hit never waits behind another thread's commit.
        self._lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[bytes, AESGCM]] = OrderedDict()
        self._ids: dict[str, str] = {}
        self._cache_size = cache_size

    def key_for_subject(self, subject: str) -> tuple[str, bytes]:
        """(key id, key) of the subject's data key, created on first use."""
        key_id = self.key_id_for_subject(subject)
        return key_id, self._entry(key_id)[0]

    def cipher_for_subject(self, subject: str) -> tuple[str, AESGCM]:
        """(key id, AES-256-GCM cipher) of the subject's data key, created on first use."""
        key_id = self.key_id_for_subject(subject)
        return key_id, self._entry(key_id)[1]

    def key_id_for_subject(self, subject: str) -> str:
        """Id of the subject's data key, created (and committed) on first use."""
        key_id = self._ids.get(subject)
        while key_id is None:  # a loop, not an if: a concurrent shred may forget it again
            self.ensure_subjects([subject])
            key_id = self._ids.get(subject)
        return key_id

    def ensure_subjects(self, subjects: Iterable[str]) -> int:
        """Give every subject a committed data key, creating the missing ones in one transaction.

        Returns how many keys were created. Another process creating the same subject concurrently is
        fine: the first insert wins and both read its key id back.
        """
        wanted = sorted({s for s in subjects if s not in self._ids})
        if not wanted:
            return 0
        with self._lock:
            found = self._key_ids(wanted)
            fresh = {s: self._new_key() for s in wanted if s not in found}
            if fresh:
                rows = [(key_id, s, version, wrapped) for s, (key_id, version, wrapped, _) in fresh.items()]
                self._db.executemany("INSERT OR IGNORE INTO data_keys VALUES (?, ?, ?, ?)", rows)
                self._db.commit()
                found = self._key_ids(wanted)
                for subject, (key_id, _, _, key) in fresh.items():
                    if found.get(subject) == key_id:  # ours won: cache it now instead of unwrapping later
                        self._remember(key_id, key)
            self._ids.update(found)
        return sum(found.get(s) == entry[0] for s, entry in fresh.items())

    def _key_ids(self, subjects: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(subjects), 500):  # stay under SQLite's bound-parameter limit
            chunk = subjects[start : start + 500]
            query = f"SELECT subject, key_id FROM data_keys WHERE subject IN ({','.join('?' * len(chunk))})"
            found.update((str(s), str(k)) for s, k in self._db.execute(query, chunk))
        return found

    def _new_key(self) -> tuple[str, int, bytes, bytes]:
        key_id, key = os.urandom(12).hex(), os.urandom(32)
        version, wrapped = self._keyring.wrap(key, key_id.encode())
        return key_id, version, wrapped, key

    def key_by_id(self, key_id: str) -> bytes:
        """Unwrapped key for ``key_id`` (LRU-cached)."""
        return self._entry(key_id)[0]

    def _entry(self, key_id: str) -> tuple[bytes, AESGCM]:
        with self._cache_lock:
            cached = self._cache.get(key_id)
            if cached is not None:
                self._cache.move_to_end(key_id)
                return cached
        with self._lock:  # held until cached, so a concurrent shred cannot be undone by a stale entry
            row = self._db.execute(
                "SELECT kek_version, wrapped FROM data_keys WHERE key_id = ?", (key_id,)
            ).fetchone()
            if row is None:
                raise KeyShredded(f"data key {key_id} does not exist (shredded?)")
            return self._remember(key_id, self._keyring.unwrap(int(row[0]), bytes(row[1]), key_id.encode()))

    def _remember(self, key_id: str, key: bytes) -> tuple[bytes, AESGCM]:
        entry = (key, AESGCM(key))
        with self._cache_lock:
            self._cache[key_id] = entry
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return entry

    def shred(self, subject: str) -> int:
        """Delete the subject's data key; returns how many keys were deleted."""
        with self._lock:
            rows = self._db.execute("SELECT key_id FROM data_keys WHERE subject = ?", (subject,)).fetchall()
            self._db.execute("DELETE FROM data_keys WHERE subject = ?", (subject,))
            self._db.commit()
            self._erase_old_copies()
            self._ids.pop(subject, None)
            with self._cache_lock:
                for (key_id,) in rows:
                    self._cache.pop(key_id, None)
        return len(rows)

    def _erase_old_copies(self) -> None:
        # After a delete or re-wrap the WAL still holds the pages written before it and the database file
        # the old page; a truncating checkpoint writes the new page home (secure_delete zeroes freed space)
        # and empties the WAL, so the old bytes survive in no file, as with the rollback journal.
        for _attempt in range(3):  # each attempt already waits up to sqlite3's 5 s busy timeout
            busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return
            time.sleep(0.1)  # another process is still reading an older snapshot
        raise ShopSightError("could not checkpoint the data-key WAL after shredding; shred again")

    def rewrap_all(self, *, batch_size: int = 500, on_batch: Callable[[int], None] | None = None) -> int:
        """Re-wrap every data key still under an older KEK with the active one; no data is re-encrypted.

        One transaction per batch, each row updated as a whole (version and wrapping together), so a crash
        leaves every key wrapped under either its old or its new KEK, and a rerun carries on where it
        stopped. ``on_batch`` hears how many keys each committed batch re-wrapped. Returns the total.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        target, total = self._keyring.active_version, 0
        while batch := self._rewrap_batch(target, batch_size):
            total += batch
            if on_batch is not None:
                on_batch(batch)
        with self._lock:
            self._erase_old_copies()  # wrappings under the retiring KEK must not linger in the WAL
        return total

    def _rewrap_batch(self, target: int, batch_size: int) -> int:
        with self._lock:
            rows = self._db.execute(
                "SELECT key_id, kek_version, wrapped FROM data_keys WHERE kek_version < ? ORDER BY key_id"
                " LIMIT ?",
                (target, batch_size),
            ).fetchall()
            updates = [self._rewrapped(str(key_id), int(v), bytes(w)) for key_id, v, w in rows]
            with self._db:  # commits the batch, or rolls it back whole if anything fails
                self._db.executemany(
                    "UPDATE data_keys SET kek_version = ?, wrapped = ? WHERE key_id = ? AND kek_version = ?",
                    updates,
                )
        return len(rows)

    def _rewrapped(self, key_id: str, version: int, wrapped: bytes) -> tuple[int, bytes, str, int]:
        key = self._keyring.unwrap(version, wrapped, key_id.encode())
        new_version, new_wrapped = self._keyring.wrap(key, key_id.encode())
        return new_version, new_wrapped, key_id, version

    def count_by_kek_version(self) -> dict[int, int]:
        """How many data keys each KEK version wraps."""
        with self._lock:
            rows = self._db.execute("SELECT kek_version, COUNT(*) FROM data_keys GROUP BY kek_version")
            return {int(v): int(n) for v, n in rows}

    def kek_versions_in_use(self) -> set[int]:
        """KEK versions still referenced by some data key."""
        with self._lock:
            return {int(v) for (v,) in self._db.execute("SELECT DISTINCT kek_version FROM data_keys")}
