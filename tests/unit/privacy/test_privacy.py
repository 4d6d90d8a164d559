"""Privacy at the edge: envelope encryption, blind index, card tokens, CVV dropping, shredding."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from shopsight.errors import ConfigError, CorruptData
from shopsight.privacy.cards import luhn_valid
from shopsight.privacy.edge import PrivacyGuard
from shopsight.privacy.envelope import decrypt_value, encrypt_value
from shopsight.privacy.keystore import KeyShredded


@pytest.fixture
def guard(tmp_path: Path) -> PrivacyGuard:
    return PrivacyGuard(tmp_path / "keys")


def test_keyfile_is_0600_and_a_loose_mode_is_refused(tmp_path: Path) -> None:
    PrivacyGuard(tmp_path / "keys")
    keyfile = tmp_path / "keys" / "keyring.json"
    assert keyfile.stat().st_mode & 0o777 == 0o600
    os.chmod(keyfile, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        PrivacyGuard(tmp_path / "keys")


def test_round_trip_and_field_binding(guard: PrivacyGuard) -> None:
    token = encrypt_value(guard.keys, "jane@example.com", subject="u1", field="traits.email")
    assert "jane" not in token
    assert decrypt_value(guard.keys, token, field="traits.email") == "jane@example.com"
    with pytest.raises(CorruptData):
        decrypt_value(guard.keys, token, field="traits.phone")  # moved to another field


def test_tampering_is_detected(guard: PrivacyGuard) -> None:
    token = encrypt_value(guard.keys, "secret", subject="u1", field="f")
    body = bytearray(token.encode())
    body[-5] = ord("A") if body[-5] != ord("A") else ord("B")
    with pytest.raises(CorruptData):
        decrypt_value(guard.keys, body.decode(), field="f")


def test_shredding_makes_a_customers_data_unreadable(guard: PrivacyGuard) -> None:
    mine = encrypt_value(guard.keys, "mine", subject="u1", field="f")
    theirs = encrypt_value(guard.keys, "theirs", subject="u2", field="f")
    assert guard.shred("u1") == 1
    with pytest.raises(KeyShredded):
        guard.decrypt_field(mine, "f")
    assert guard.decrypt_field(theirs, "f") == "theirs"


def test_kek_rotation_rewraps_without_touching_data(guard: PrivacyGuard) -> None:
    token = encrypt_value(guard.keys, "value", subject="u1", field="f")
    assert guard.rotate_kek() == 2
    assert guard.keys.kek_versions_in_use() == {2}
    reopened = PrivacyGuard(guard.keyring.folder)
    assert reopened.decrypt_field(token, "f") == "value"


@pytest.mark.parametrize(
    "text",
    ["4111111111111111", "4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005",
     "6011111111111117", "my card is 4111111111111111 thanks"],
)  # fmt: skip
def test_card_numbers_are_tokenized(guard: PrivacyGuard, text: str) -> None:
    tokenized = guard.vault.tokenize_text(text)
    assert "tok_" in tokenized
    assert not any(run in tokenized for run in ("1111", "4444", "0005", "1117"))


@pytest.mark.parametrize(
    "text",
    ["4111111111111112", "411111111111", "41111111111111111111", "1700000000000", "+1 415 555 0100",
     "order 123456789", "b4111111111111111", "4111111111111111x", "41111111-1111-1111-1111-111111111111",
     "c0ffee00-4111-1111-1111-111111111111"],
)  # fmt: skip
def test_non_cards_are_left_alone(guard: PrivacyGuard, text: str) -> None:
    assert guard.vault.tokenize_text(text) == text


def test_same_pan_same_token_and_vault_holds_no_pan(guard: PrivacyGuard, tmp_path: Path) -> None:
    first = guard.vault.tokenize_text("4111111111111111")
    assert guard.vault.tokenize_text("4111-1111-1111-1111") == first
    assert guard.vault.tokenize_text("5555555555554444") != first
    assert guard.vault.detokenize(first) == "4111111111111111"
    info = guard.vault.card_info(first)
    assert (info.bin, info.last4) == ("411111", "1111")
    assert b"4111111111111111" not in (tmp_path / "keys" / "vault.sqlite").read_bytes()
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_protect_event_leaves_no_pii_or_pan_in_clear(guard: PrivacyGuard) -> None:
    event = {
        "type": "identify",
        "userId": "u-9",
        "traits": {"email": "Jane.Doe@Example.com", "phone": "+1 415 555 0100", "firstName": "Jane",
                   "address": {"street": "1 Main St", "city": "Springfield"}},
        "context": {"ip": "203.0.113.9"},
        "properties": {
            "payment": {"card_number": 4111111111111111, "CVV": "123", "note": "5555 5555 5555 4444"},
            "timestamp_ms": 1700000000000,
        },
    }  # fmt: skip
    protected = guard.protect_event(event, subject="u-9")
    raw = orjson.dumps(protected)
    for secret in (
        b"Jane",
        b"415 555",
        b"Main St",
        b"203.0.113.9",
        b"4111111111111111",
        b"5555 5555",
        b'"123"',
    ):
        assert secret not in raw
    assert "CVV" not in protected["properties"]["payment"]
    assert protected["properties"]["timestamp_ms"] == 1700000000000
    assert guard.decrypt_field(protected["traits"]["email"], "traits.email") == "Jane.Doe@Example.com"
    other = guard.protect_event({"traits": {"email": " jane.doe@example.com"}}, subject="u-10")
    assert other["_blind"]["traits.email"] == protected["_blind"]["traits.email"]


def test_protect_row_encrypts_dotted_paths_through_lists(guard: PrivacyGuard) -> None:
    row = {"order_id": "o1", "shipping_address": {"line1": "1 Main St"}, "items": [{"name": "Mug"}],
           "payments": [{"card_number": "4111111111111111", "cvv": "999"}]}  # fmt: skip
    protected = guard.protect_row(row, subject="c1", pii_fields={"shipping_address", "items.name"})
    # The plain words must not survive outside the ciphertexts (a random ciphertext may spell "Mug").
    sealed = (protected["shipping_address"], protected["items"][0]["name"])
    assert all(str(value).startswith("enc:") for value in sealed)
    rest = orjson.dumps({**protected, "shipping_address": None, "items": None})
    assert b"Main St" not in rest and b"Mug" not in rest and b"4111111111111111" not in rest
    assert "4111111111111111" not in str(protected["payments"])
    assert "cvv" not in protected["payments"][0]
    assert protected["order_id"] == "o1"


def test_dead_letter_sealing_round_trips_non_utf8_and_hides_cards(guard: PrivacyGuard) -> None:
    raw = b"bad,\xff\xfe row with 4111 1111 1111 1111"
    sealed = guard.seal(raw)
    assert b"4111" not in sealed and b"row with" not in sealed
    opened = guard.unseal(sealed)
    assert opened.startswith(b"bad,\xff\xfe row with tok_")
