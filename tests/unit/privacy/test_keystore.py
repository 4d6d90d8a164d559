"""Data keys: created for a whole batch in one durable commit, cached, shared safely between stores."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from shopsight.privacy.edge import ANONYMOUS_SUBJECT, PrivacyGuard
from shopsight.privacy.keyring import Keyring
from shopsight.privacy.keystore import DataKeyStore, KeyShredded


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring(tmp_path / "keys")


@contextmanager
def _commits(store: DataKeyStore) -> Iterator[list[str]]:
    """The COMMIT statements the store's database connection runs inside the block."""
    seen: list[str] = []
    store._db.set_trace_callback(lambda sql: seen.append(sql) if sql.upper() == "COMMIT" else None)
    try:
        yield seen
    finally:
        store._db.set_trace_callback(None)


def test_a_batch_of_new_subjects_costs_one_commit(keyring: Keyring) -> None:
    store = DataKeyStore(keyring)
    with _commits(store) as commits:
        assert store.ensure_subjects([f"u{i}" for i in range(50)] + ["u1", "u2"]) == 50
    assert len(commits) == 1
    with _commits(store) as commits:
        assert store.ensure_subjects(["u1", "u49"]) == 0  # known: no database work at all
        store.key_for_subject("u7")
    assert commits == []


def test_keys_created_in_a_batch_are_durable_and_stable(keyring: Keyring) -> None:
    store = DataKeyStore(keyring)
    store.ensure_subjects(["a", "b"])
    before = {s: store.key_for_subject(s) for s in ("a", "b")}
    reopened = DataKeyStore(keyring)
    assert {s: reopened.key_for_subject(s) for s in ("a", "b")} == before
    assert before["a"][1] != before["b"][1] and len(before["a"][1]) == 32


def test_two_stores_on_one_database_agree_on_a_subject_key(keyring: Keyring) -> None:
    first, second = DataKeyStore(keyring), DataKeyStore(keyring)  # e.g. server and importer processes
    assert first.ensure_subjects(["shared", "only-first"]) == 2
    assert second.ensure_subjects(["shared", "only-second"]) == 1  # 'shared' is read back, not recreated
    assert first.key_for_subject("shared") == second.key_for_subject("shared")


def test_a_shredded_subject_gets_a_new_key_and_the_old_one_is_gone(keyring: Keyring) -> None:
    store = DataKeyStore(keyring)
    store.ensure_subjects(["u1"])
    old_id, _ = store.cipher_for_subject("u1")
    assert store.shred("u1") == 1
    with pytest.raises(KeyShredded):
        store.key_by_id(old_id)
    assert store.ensure_subjects(["u1"]) == 1
    assert store.key_id_for_subject("u1") != old_id


def test_guard_ensure_keys_maps_missing_subjects_to_the_shared_anonymous_key(tmp_path: Path) -> None:
    guard = PrivacyGuard(tmp_path / "keys")
    assert guard.ensure_keys(["u1", None, "", "u1"]) == 2
    with _commits(guard.keys) as commits:
        protected = guard.protect_event({"context": {"ip": "203.0.113.9"}}, subject=None)
    assert commits == []  # the key made by ensure_keys is used, not created again
    key_id, _ = guard.keys.cipher_for_subject(ANONYMOUS_SUBJECT)
    assert protected["context"]["ip"].startswith(f"enc:v1:{key_id}:")


def _wrapped(store: DataKeyStore, subject: str) -> bytes:
    (wrapped,) = store._db.execute("SELECT wrapped FROM data_keys WHERE subject = ?", (subject,)).fetchone()
    return bytes(wrapped)


def _on_disk(keyring: Keyring, secret: bytes) -> bool:
    files = sorted(keyring.folder.glob("datakeys.sqlite*"))  # the database, its WAL and shared memory
    assert files
    return any(secret in f.read_bytes() for f in files)


def test_a_shredded_key_leaves_no_copy_in_the_database_files(keyring: Keyring) -> None:
    store = DataKeyStore(keyring)
    store.ensure_subjects(["gone", "kept"])
    gone, kept = _wrapped(store, "gone"), _wrapped(store, "kept")
    store.shred("gone")
    assert not _on_disk(keyring, gone) and _on_disk(keyring, kept)


def test_kek_rotation_leaves_no_wrapping_under_the_old_kek_on_disk(keyring: Keyring) -> None:
    store = DataKeyStore(keyring)
    store.ensure_subjects(["u1"])
    old = _wrapped(store, "u1")
    keyring.rotate()
    store.rewrap_all()
    assert not _on_disk(keyring, old) and _on_disk(keyring, _wrapped(store, "u1"))
