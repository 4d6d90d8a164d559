"""Secrets at rest: the identity HMAC key in the keyring, keyed digests, sealed TOTP secrets."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shopsight.errors import CorruptData
from shopsight.privacy.keyring import KEYFILE, Keyring
from shopsight.security.identity.at_rest import IDENTITY_KEY, keyed_digest, open_secret, seal_secret


def test_the_identity_key_is_created_once_and_kept(tmp_path: Path) -> None:
    first = Keyring(tmp_path)
    key = first.named_hmac_key(IDENTITY_KEY)
    assert len(key) == 32 and key != first.hmac_key("blind_index_key")
    assert first.named_hmac_key(IDENTITY_KEY) == key
    assert Keyring(tmp_path).named_hmac_key(IDENTITY_KEY) == key  # persisted, not regenerated
    assert stat.S_IMODE((tmp_path / KEYFILE).stat().st_mode) == 0o600


def test_a_key_created_by_another_process_is_not_overwritten(tmp_path: Path) -> None:
    ours, theirs = Keyring(tmp_path), Keyring(tmp_path)  # both loaded before the key existed
    created = theirs.named_hmac_key(IDENTITY_KEY)
    assert ours.named_hmac_key(IDENTITY_KEY) == created


def test_digests_are_keyed_and_separated_by_purpose() -> None:
    one, two = bytes(32), bytes(range(32))
    assert keyed_digest(one, purpose="api-key", value="s") != keyed_digest(two, purpose="api-key", value="s")
    assert keyed_digest(one, purpose="api-key", value="s") != keyed_digest(
        one, purpose="recovery-code", value="s"
    )


def test_sealed_secrets_survive_a_kek_rotation_and_refuse_tampering(tmp_path: Path) -> None:
    keyring = Keyring(tmp_path)
    sealed = seal_secret(keyring, "JBSWY3DPEHPK3PXP", owner="user-1")
    keyring.rotate()
    assert open_secret(keyring, sealed, owner="user-1") == "JBSWY3DPEHPK3PXP"
    tag, version, wrapped, body = sealed.split(":")
    # Position 20 is inside the ciphertext and carries six data bits (no base64 padding bits).
    flipped = body[:20] + ("A" if body[20] != "A" else "Q") + body[21:]
    with pytest.raises(CorruptData):
        open_secret(keyring, ":".join([tag, version, wrapped, flipped]), owner="user-1")
