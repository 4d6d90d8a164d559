"""The one entry point the collector and the importer call to protect data before it is stored."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shopsight.privacy.blind_index import blind_index
from shopsight.privacy.cards import TokenVault
from shopsight.privacy.envelope import decrypt_value, encrypt_value, is_encrypted
from shopsight.privacy.keyring import Keyring
from shopsight.privacy.keystore import DataKeyStore

# Key names treated as PII inside traits / properties / context (Segment reserved traits and the like).
PII_KEYS = frozenset(
    {"email", "phone", "name", "firstname", "lastname", "address", "street", "postalcode", "birthday", "ip"}
)
BLIND_KINDS = ("email", "phone")
EVENT_SECTIONS = ("traits", "properties", "context")
ANONYMOUS_SUBJECT = "anonymous"  # events with neither userId nor anonymousId share one key
DEAD_LETTER_SUBJECT = "__dead_letters__"


def _pii_key(key: str) -> bool:
    return key.lower().replace("_", "") in PII_KEYS


class PrivacyGuard:
    """Encrypts PII per customer, adds blind indexes, tokenizes cards and drops CVVs."""

    def __init__(self, key_folder: Path) -> None:
        self.keyring = Keyring(key_folder)
        self.keys = DataKeyStore(self.keyring)
        self.vault = TokenVault(self.keyring, key_folder)
        self._blind_key = self.keyring.hmac_key("blind_index_key")

    def protect_event(self, payload: dict[str, Any], *, subject: str | None) -> dict[str, Any]:
        """Scrub cards/CVVs everywhere and encrypt PII keys within traits, properties and context."""
        owner = subject or ANONYMOUS_SUBJECT
        scrubbed: dict[str, Any] = self.vault.scrub(payload)
        blind: dict[str, str] = {}
        for section in EVENT_SECTIONS:
            if isinstance(scrubbed.get(section), dict):
                scrubbed[section] = self._encrypt_pii_keys(scrubbed[section], owner, section, blind)
        if blind:
            scrubbed["_blind"] = blind
        return scrubbed

    def _encrypt_pii_keys(self, node: Any, owner: str, path: str, blind: dict[str, str]) -> Any:
        if isinstance(node, list):
            return [self._encrypt_pii_keys(v, owner, path, blind) for v in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            field = f"{path}.{key}"
            if _pii_key(str(key)) and value not in (None, ""):
                out[key] = self._encrypt(value, owner, field, blind)
            else:
                out[key] = self._encrypt_pii_keys(value, owner, field, blind)
        return out

    def _encrypt(self, value: Any, owner: str, field: str, blind: dict[str, str]) -> str:
        if is_encrypted(value):
            return str(value)
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        kind = field.rsplit(".", 1)[-1].lower()
        if kind in BLIND_KINDS:
            blind[field] = blind_index(self._blind_key, kind, text)
        return encrypt_value(self.keys, text, subject=owner, field=field)

    def protect_row(
        self, row: dict[str, Any], *, subject: str | None, pii_fields: set[str]
    ) -> dict[str, Any]:
        """Scrub cards/CVVs and encrypt the given dotted PII paths of an entity row."""
        owner = subject or ANONYMOUS_SUBJECT
        scrubbed: dict[str, Any] = self.vault.scrub(row)
        blind: dict[str, str] = {}
        for path in sorted(pii_fields):
            self._encrypt_path(scrubbed, path.split("."), path, owner, blind)
        if blind:
            scrubbed["_blind"] = blind
        return scrubbed

    def _encrypt_path(
        self, node: Any, parts: list[str], field: str, owner: str, blind: dict[str, str]
    ) -> None:
        if isinstance(node, list):
            for item in node:
                self._encrypt_path(item, parts, field, owner, blind)
            return
        if not isinstance(node, dict) or parts[0] not in node:
            return
        if len(parts) > 1:
            self._encrypt_path(node[parts[0]], parts[1:], field, owner, blind)
        elif node[parts[0]] not in (None, ""):
            node[parts[0]] = self._encrypt(node[parts[0]], owner, field, blind)

    def decrypt_field(self, token: str, field: str) -> str:
        """Clear text of one encrypted field (callers audit this)."""
        return decrypt_value(self.keys, token, field=field)

    def seal(self, data: bytes) -> bytes:
        """Dead-letter sealing: tokenize card numbers in the raw bytes, then AES-256-GCM."""
        text = data.decode("utf-8", errors="surrogateescape")
        scrubbed = self.vault.tokenize_text(text).encode("utf-8", errors="surrogateescape")
        key_id, key = self.keys.key_for_subject(DEAD_LETTER_SUBJECT)
        nonce = os.urandom(12)
        return key_id.encode() + b":" + nonce + AESGCM(key).encrypt(nonce, scrubbed, key_id.encode())

    def unseal(self, blob: bytes) -> bytes:
        """Inverse of :meth:`seal` (card numbers stay tokens)."""
        key_id, _, rest = blob.partition(b":")
        key = self.keys.key_by_id(key_id.decode())
        return AESGCM(key).decrypt(rest[:12], rest[12:], key_id)

    def shred(self, subject: str) -> int:
        """Crypto-shred a customer: delete their data key."""
        return self.keys.shred(subject)

    def rotate_kek(self) -> int:
        """New active KEK version, then re-wrap every data key under it."""
        version = self.keyring.rotate()
        self.keys.rewrap_all()
        return version
