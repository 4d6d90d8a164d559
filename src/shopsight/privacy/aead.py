"""AES-256-GCM sealing in the one layout ShopSight ciphertexts use: ``nonce(12) || ciphertext || tag(16)``.

Field encryption, dead-letter sealing and the keyfile's KEK wrapping all go through these two functions,
so the NIST CAVP vectors that test them test the production code path.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12  # 96-bit nonces: GCM's fast path, and the only length we write


def seal(cipher: AESGCM, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """``nonce || ciphertext || tag``; callers pass a fresh random nonce (``os.urandom(12)``)."""
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"nonce must be {NONCE_BYTES} bytes, got {len(nonce)}")
    return nonce + cipher.encrypt(nonce, plaintext, aad)


def open_sealed(cipher: AESGCM, sealed: bytes, aad: bytes) -> bytes:
    """Plaintext of a :func:`seal` output; raises ``cryptography.exceptions.InvalidTag`` if tampered."""
    return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
