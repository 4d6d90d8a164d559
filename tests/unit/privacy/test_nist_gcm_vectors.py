"""NIST CAVP AES-256-GCM vectors (gcmEncryptExtIV256 / gcmDecrypt256, from ``cryptography-vectors``) run
through :mod:`shopsight.privacy.aead`, the sealing code that field encryption, dead-letter sealing and
keyfile KEK wrapping all use. Every 256-bit-key case with a 96-bit IV runs, at every tag length."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shopsight.privacy.aead import open_sealed, seal

CASES_PER_FILE = 2625  # 175 sections with a 96-bit IV (25 lengths x 7 tag lengths), 15 cases each


@dataclass(frozen=True)
class GcmCase:
    """One CAVP case; ``plaintext`` is None for a decrypt case marked FAIL."""

    key: bytes
    iv: bytes
    aad: bytes
    ciphertext: bytes
    tag: bytes
    plaintext: bytes | None


def _cases(name: str) -> Iterator[GcmCase]:
    """The cases of one .rsp file with a 256-bit key and a 96-bit IV."""
    text = (files("cryptography_vectors") / "ciphers" / "AES" / "GCM" / name).read_text()
    section: dict[str, str] = {}
    for block in text.split("\n\n"):
        lines = [line.strip() for line in block.strip().splitlines() if not line.startswith("#")]
        if lines and lines[0].startswith("["):
            section = dict(line.strip("[]").split(" = ") for line in lines)
        elif (
            lines and lines[0].startswith("Count") and (section["Keylen"], section["IVlen"]) == ("256", "96")
        ):
            yield _case(lines)


def _case(lines: list[str]) -> GcmCase:
    fields = (line.partition("=") for line in lines if line != "FAIL")  # "AAD =" when empty
    raw = {k.strip(): bytes.fromhex(v.strip()) for k, _, v in fields if k.strip() != "Count"}
    failing = "FAIL" in lines
    return GcmCase(raw["Key"], raw["IV"], raw["AAD"], raw["CT"], raw["Tag"], None if failing else raw["PT"])


def test_encrypt_vectors_match_byte_for_byte() -> None:
    checked = 0
    for case in _cases("gcmEncryptExtIV256.rsp"):
        assert case.plaintext is not None
        sealed = seal(AESGCM(case.key), case.iv, case.plaintext, case.aad)
        body, tag = sealed[: 12 + len(case.ciphertext)], sealed[12 + len(case.ciphertext) :]
        assert body == case.iv + case.ciphertext
        assert len(tag) == 16 and tag[: len(case.tag)] == case.tag  # a shorter tag is our tag's prefix
        checked += 1
    assert checked == CASES_PER_FILE


def test_decrypt_vectors_with_full_tags_open_or_fail_as_published() -> None:
    opened = failed = 0
    for case in _cases("gcmDecrypt256.rsp"):
        if len(case.tag) != 16:
            continue
        sealed = case.iv + case.ciphertext + case.tag
        if case.plaintext is None:
            with pytest.raises(InvalidTag):
                open_sealed(AESGCM(case.key), sealed, case.aad)
            failed += 1
        else:
            assert open_sealed(AESGCM(case.key), sealed, case.aad) == case.plaintext
            opened += 1
    assert opened + failed == 375 and opened > 100 and failed > 100


def test_truncated_tags_are_always_refused() -> None:
    # SP 800-38D allows tags down to 32 bits; we write and accept 128-bit tags only, valid or not.
    refused = 0
    for case in _cases("gcmDecrypt256.rsp"):
        if len(case.tag) == 16:
            continue
        with pytest.raises(InvalidTag):
            open_sealed(AESGCM(case.key), case.iv + case.ciphertext + case.tag, case.aad)
        refused += 1
    assert refused == CASES_PER_FILE - 375


def test_seal_refuses_a_nonce_that_is_not_96_bits() -> None:
    with pytest.raises(ValueError, match="12 bytes"):
        seal(AESGCM(bytes(32)), bytes(8), b"x", b"")
