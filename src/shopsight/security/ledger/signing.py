"""Ed25519 signed tree heads: the ledger's commitment to (name, size, root hash, time).

The private key lives in a 0600 file beside the keyring (``<key store>/ledger_ed25519.pem``), apart from
the API's token key, so whoever can mint access tokens cannot also re-sign the audit trail.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from shopsight.errors import ConfigError

LEDGER_KEY_FILE = "ledger_ed25519.pem"
_DOMAIN = b"shopsight-tree-head/v1"  # keeps these signatures from being valid for any other message


class SignedTreeHead(BaseModel):
    """A ledger's size and Merkle root at one moment, signed with the ledger key."""

    model_config = ConfigDict(frozen=True)

    ledger: str = Field(description="Name of the ledger, e.g. 'audit'.")
    tree_size: int = Field(ge=0, description="Number of entries the root covers.")
    root_hash: str = Field(description="RFC 6962 Merkle tree hash, hex.")
    timestamp_ms: int = Field(ge=0, description="When the head was signed, milliseconds since the epoch.")
    key_id: str = Field(description="First 16 bytes of SHA-256 of the raw public key, hex.")
    signature: str = Field(description="Ed25519 signature over the canonical head bytes, base64.")


def tree_head_message(*, ledger: str, tree_size: int, root_hash: bytes, timestamp_ms: int) -> bytes:
    """The exact bytes a tree head signature covers."""
    fields = f"{ledger}\n{tree_size}\n{timestamp_ms}\n{root_hash.hex()}"
    return _DOMAIN + b"\n" + fields.encode()


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """A short stable name for a public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


class TreeHeadVerifier:
    """Checks tree head signatures with the ledger's public key."""

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self.public_key = public_key
        self.key_id = key_id_of(public_key)

    @property
    def public_key_pem(self) -> str:
        """The public key as SubjectPublicKeyInfo PEM, for `audit head` and auditors."""
        pem = self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem.decode()

    def is_valid(self, head: SignedTreeHead) -> bool:
        """Whether ``head`` was signed by this key (and is well formed)."""
        try:
            root = bytes.fromhex(head.root_hash)
            signature = base64.b64decode(head.signature, validate=True)
            message = tree_head_message(
                ledger=head.ledger, tree_size=head.tree_size, root_hash=root, timestamp_ms=head.timestamp_ms
            )
            self.public_key.verify(signature, message)
        except (ValueError, InvalidSignature):
            return False
        return head.key_id == self.key_id


class TreeHeadSigner:
    """Signs tree heads with the ledger's private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.verifier = TreeHeadVerifier(private_key.public_key())

    def sign(self, *, ledger: str, tree_size: int, root_hash: bytes, timestamp_ms: int) -> SignedTreeHead:
        """A signed head for ``tree_size`` entries with Merkle root ``root_hash``."""
        message = tree_head_message(
            ledger=ledger, tree_size=tree_size, root_hash=root_hash, timestamp_ms=timestamp_ms
        )
        signature = base64.b64encode(self._private_key.sign(message)).decode()
        return SignedTreeHead(
            ledger=ledger, tree_size=tree_size, root_hash=root_hash.hex(), timestamp_ms=timestamp_ms,
            key_id=self.verifier.key_id, signature=signature,
        )  # fmt: skip


def load_ledger_key(folder: Path) -> Ed25519PrivateKey:
    """The ledger's Ed25519 key in ``folder``, created with mode 0600 on first use."""
    path = folder / LEDGER_KEY_FILE
    if not path.exists():
        _create_key_file(folder, path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path} is readable by group or others (mode {mode:o}); chmod 600 it")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key")
    return key


def _create_key_file(folder: Path, path: Path) -> None:
    """Write the key to a private temporary file, then link it into place: readers never see half a key."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = folder / f".{LEDGER_KEY_FILE}.{os.getpid()}.{os.urandom(4).hex()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:  # another process created it first: use theirs
        pass
    finally:
        tmp.unlink()
