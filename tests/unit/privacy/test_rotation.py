"""KEK rotation: data keys re-wrapped in crash-safe batches, ciphertexts untouched, the rotation audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from shopsight.privacy.edge import PrivacyGuard
from shopsight.privacy.envelope import encrypt_value
from shopsight.privacy.keystore import DataKeyStore, KeyShredded
from shopsight.privacy.rotation import REWRAP_FAILED, ROTATED, key_status, rewrap_keys, rotate_keys
from shopsight.security.audit import RecordingAudit

CUSTOMERS = [f"customer-{n}" for n in range(7)]


@pytest.fixture
def guard(tmp_path: Path) -> PrivacyGuard:
    return PrivacyGuard(tmp_path / "keys")


def _encrypt_everyone(guard: PrivacyGuard) -> dict[str, str]:
    return {
        c: encrypt_value(guard.keys, f"{c}@example.com", subject=c, field="traits.email") for c in CUSTOMERS
    }


def _wrappings(store: DataKeyStore) -> dict[str, tuple[int, bytes]]:
    rows = store._db.execute("SELECT subject, kek_version, wrapped FROM data_keys").fetchall()
    return {str(s): (int(v), bytes(w)) for s, v, w in rows}


def test_rotation_rewraps_every_key_and_leaves_ciphertexts_alone(guard: PrivacyGuard) -> None:
    tokens = _encrypt_everyone(guard)
    before = _wrappings(guard.keys)
    report = rotate_keys(guard=guard, audit=RecordingAudit(), actor="test", batch_size=3)
    after = _wrappings(guard.keys)
    assert report.rewrapped == len(CUSTOMERS) and report.active_version == 2
    assert {v for v, _ in after.values()} == {2}
    assert all(after[c][1] != before[c][1] for c in CUSTOMERS)  # new wrappings, same keys
    reopened = PrivacyGuard(guard.keyring.folder)  # nothing cached: every key is unwrapped by KEK v2
    assert {c: reopened.decrypt_field(t, "traits.email") for c, t in tokens.items()} == {
        c: f"{c}@example.com" for c in CUSTOMERS
    }


def test_old_kek_still_unwraps_keys_not_yet_rewrapped(guard: PrivacyGuard) -> None:
    tokens = _encrypt_everyone(guard)
    guard.keyring.rotate()  # a new active version, no re-wrap yet
    reopened = PrivacyGuard(guard.keyring.folder)
    assert reopened.decrypt_field(tokens["customer-0"], "traits.email") == "customer-0@example.com"
    assert key_status(reopened).data_keys_by_version == {1: len(CUSTOMERS)}
    assert key_status(reopened).pending_rewrap == len(CUSTOMERS)


def test_a_crash_after_the_first_batch_loses_nothing_and_a_rerun_finishes(guard: PrivacyGuard) -> None:
    tokens = _encrypt_everyone(guard)
    audit = RecordingAudit()

    def crash(_done: int) -> None:
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        rotate_keys(guard=guard, audit=audit, actor="test", batch_size=3, on_batch=crash)
    assert [r.action for r in audit.records] == [REWRAP_FAILED]
    assert key_status(guard).data_keys_by_version == {1: 4, 2: 3}  # one committed batch, the rest old
    survivor = PrivacyGuard(guard.keyring.folder)
    assert all(survivor.decrypt_field(t, "traits.email") == f"{c}@example.com" for c, t in tokens.items())
    assert rewrap_keys(guard=survivor, audit=audit, actor="test").rewrapped == 4
    assert key_status(survivor).data_keys_by_version == {2: len(CUSTOMERS)}


def test_a_failure_inside_a_batch_rolls_the_whole_batch_back(
    guard: PrivacyGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    _encrypt_everyone(guard)
    before = _wrappings(guard.keys)
    guard.keyring.rotate()
    calls = 0
    real_wrap = guard.keyring.wrap

    def failing_wrap(key: bytes, aad: bytes) -> tuple[int, bytes]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise InvalidTag()  # e.g. the HSM refusing half-way through a batch
        return real_wrap(key, aad)

    monkeypatch.setattr(guard.keyring, "wrap", failing_wrap)
    with pytest.raises(InvalidTag):
        guard.keys.rewrap_all(batch_size=5)
    assert _wrappings(guard.keys) == before


def test_crypto_shredding_still_works_after_rotation(guard: PrivacyGuard) -> None:
    tokens = _encrypt_everyone(guard)
    rotate_keys(guard=guard, audit=RecordingAudit(), actor="test")
    assert guard.shred("customer-3") == 1
    reopened = PrivacyGuard(guard.keyring.folder)
    with pytest.raises(KeyShredded):
        reopened.decrypt_field(tokens["customer-3"], "traits.email")
    assert reopened.decrypt_field(tokens["customer-4"], "traits.email") == "customer-4@example.com"


def test_rotation_is_audited_without_key_material(guard: PrivacyGuard) -> None:
    _encrypt_everyone(guard)
    audit = RecordingAudit()
    batches: list[int] = []
    rotate_keys(guard=guard, audit=audit, actor="cli", batch_size=4, on_batch=batches.append)
    (record,) = audit.records
    assert record.action == ROTATED and record.actor == "cli"
    assert record.details["kek_version"] == 2 and record.details["previous_version"] == 1
    assert record.details["rewrapped"] == len(CUSTOMERS) and record.details["provider"] == "keyfile"
    assert batches == [4, 3]


def test_another_process_sees_a_rotation_without_restarting(guard: PrivacyGuard) -> None:
    server = PrivacyGuard(guard.keyring.folder)  # e.g. the running collector
    token = encrypt_value(server.keys, "x", subject="late", field="f")
    rotate_keys(guard=guard, audit=RecordingAudit(), actor="cli")
    assert server.keyring.active_version == 2  # new keys get wrapped by the new KEK right away
    fresh = DataKeyStore(server.keyring)
    assert PrivacyGuard(guard.keyring.folder).decrypt_field(token, "f") == "x"
    assert fresh.count_by_kek_version() == {2: 1}


def test_batch_size_must_be_positive(guard: PrivacyGuard) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        guard.keys.rewrap_all(batch_size=0)


def test_vaulted_card_numbers_are_resealed_under_the_new_kek(guard: PrivacyGuard) -> None:
    tokens = [
        guard.vault.tokenize_pan(pan) for pan in ("4111111111111111", "5555555555554444", "378282246310005")
    ]
    report = rotate_keys(guard=guard, audit=RecordingAudit(), actor="test", batch_size=2)
    assert report.cards_rewrapped == 3
    versions = guard.vault._db.execute("SELECT DISTINCT kek_version FROM cards").fetchall()
    assert versions == [(2,)]
    reopened = PrivacyGuard(guard.keyring.folder)
    assert [reopened.vault.detokenize(t) for t in tokens] == ["4111111111111111", "5555555555554444",
                                                             "378282246310005"]  # fmt: skip
    assert reopened.vault.tokenize_pan("4111111111111111") == tokens[0]  # same PAN, same token
