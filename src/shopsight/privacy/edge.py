"""The one entry point the collector and the importer call to protect data before it is stored.

Each document is walked once: CVV keys dropped, card numbers tokenized and PII keys encrypted in the same
pass. The per-string card search runs only when :func:`may_hold_card` (one C-speed scan of the document's
JSON) says a card is possible; field names are classified once and remembered; the subject's data key is
looked up once per document.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shopsight.events.classification import PII_KEY_NAMES, is_pii_event_path, normalize_key
from shopsight.privacy.aead import NONCE_BYTES, open_sealed, seal
from shopsight.privacy.blind_index import blind_index
from shopsight.privacy.cards import TokenVault, is_cvv_key, may_hold_card
from shopsight.privacy.envelope import decrypt_value, encrypt_with, is_encrypted
from shopsight.privacy.kek import KekProvider
from shopsight.privacy.keyring import Keyring
from shopsight.privacy.keystore import DataKeyStore

BLIND_KINDS = ("email", "phone")
EVENT_SECTIONS = ("traits", "properties", "context")
ANONYMOUS_SUBJECT = "anonymous"  # events with neither userId nor anonymousId share one key
DEAD_LETTER_SUBJECT = "__dead_letters__"
_PLAIN, _PII, _CVV = 0, 1, 2
_KEY_KINDS: dict[str, int] = {}  # field name -> kind; bounded so odd payloads cannot grow it forever
_KEY_KINDS_MAX = 20_000
_PII_PATHS: dict[str, bool] = {}  # dotted path -> whether its classification is PII; bounded likewise
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _pii_key(key: str) -> bool:
    """Whether a key name can be PII somewhere in an event (its path decides: see :func:`_pii_path`)."""
    return normalize_key(key) in PII_KEY_NAMES


def _pii_path(path: str) -> bool:
    # `properties.products.name` is a product's name, `traits.name` a person's: the path decides.
    known = _PII_PATHS.get(path)
    if known is None:
        known = is_pii_event_path(path)
        if len(_PII_PATHS) < _KEY_KINDS_MAX:
            _PII_PATHS[path] = known
    return known


def _key_kind(key: Any) -> int:
    kind = _KEY_KINDS.get(key) if type(key) is str else None
    return _classify(key) if kind is None else kind


def _classify(key: Any) -> int:
    text = str(key)
    kind = _CVV if is_cvv_key(text) else _PII if _pii_key(text) else _PLAIN
    if type(key) is str and len(_KEY_KINDS) < _KEY_KINDS_MAX:
        _KEY_KINDS[key] = kind
    return kind


class _Pass:
    """One document's walk: what :meth:`TokenVault.scrub` and the PII encryption did, in one pass."""

    def __init__(self, guard: PrivacyGuard, owner: str, *, cards: bool) -> None:
        self._vault = guard.vault
        self._keys = guard.keys
        self._blind_key = guard.blind_key
        self._owner = owner
        self.cards = cards  # False: the document's JSON holds nothing a card number could be
        self._cipher: tuple[str, AESGCM] | None = None
        self.blind: dict[str, str] = {}

    def walk(self, node: Any, path: str | None) -> Any:
        """Scrubbed copy of ``node``; inside a PII section (``path`` set) PII keys are also encrypted."""
        if isinstance(node, str):
            return self._vault.tokenize_text(node) if self.cards else node
        if isinstance(node, dict):
            return self._walk_dict(node, path)
        if isinstance(node, list):
            return [self.walk(v, path) for v in node]
        if self.cards and isinstance(node, int) and not isinstance(node, bool) and node >= 10**12:
            replaced = self._vault.tokenize_text(str(node))
            return node if replaced == str(node) else replaced
        return node

    def _walk_dict(self, node: dict[Any, Any], path: str | None) -> dict[Any, Any]:
        # The hot loop of ingestion, hence inlined: plain keys with JSON scalars are copied as they are
        # unless a card is possible; containers are walked; PII keys inside a section are encrypted.
        out: dict[Any, Any] = {}
        cards = self.cards
        for key, value in node.items():
            kind = _KEY_KINDS.get(key) if type(key) is str else None
            if kind is None:
                kind = _classify(key)
            if cards and type(key) is str:
                key = self._vault.tokenize_text(key)  # a card number can be a key too
            if kind == _PII and (path is None or not _pii_path(f"{path}.{key}")):
                kind = _PLAIN
            if kind == _PLAIN:
                if not cards and type(value) in _JSON_SCALARS:
                    out[key] = value
                elif type(value) is dict:
                    out[key] = self._walk_dict(value, None if path is None else f"{path}.{key}")
                else:
                    out[key] = self.walk(value, None if path is None else f"{path}.{key}")
            elif kind == _PII and value not in (None, ""):
                out[key] = self.encrypt(self.walk(value, None), f"{path}.{key}")
            elif kind != _CVV:
                out[key] = self.walk(value, None if path is None else f"{path}.{key}")
        return out

    def encrypt(self, value: Any, field: str) -> str:
        """Ciphertext of one PII value under the owner's data key (plus a blind index for email/phone)."""
        if is_encrypted(value):
            return str(value)
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        kind = field.rsplit(".", 1)[-1].lower()
        if kind in BLIND_KINDS:
            self.blind[field] = blind_index(self._blind_key, kind, text)
        if self._cipher is None:
            self._cipher = self._keys.cipher_for_subject(self._owner)
        key_id, cipher = self._cipher
        return encrypt_with(cipher, key_id, text, field=field)


def _encrypt_path(node: Any, parts: list[str], field: str, walk: _Pass) -> None:
    if isinstance(node, list):
        for item in node:
            _encrypt_path(item, parts, field, walk)
        return
    if not isinstance(node, dict) or parts[0] not in node:
        return
    if len(parts) > 1:
        _encrypt_path(node[parts[0]], parts[1:], field, walk)
    elif node[parts[0]] not in (None, ""):
        node[parts[0]] = walk.encrypt(node[parts[0]], field)


class PrivacyGuard:
    """Encrypts PII per customer, adds blind indexes, tokenizes cards and drops CVVs."""

    def __init__(self, key_folder: Path, *, kek: KekProvider | None = None) -> None:
        """Keys under ``key_folder``; KEKs from ``kek`` (e.g. a PKCS#11 token) or else the keyfile."""
        self.keyring = Keyring(key_folder, kek=kek)
        self.keys = DataKeyStore(self.keyring)
        self.vault = TokenVault(self.keyring, key_folder)
        self.blind_key = self.keyring.hmac_key("blind_index_key")

    def ensure_keys(self, subjects: Iterable[str | None]) -> int:
        """Create the missing data keys of many subjects in one durable commit; returns how many.

        Callers protecting a batch call this first so that no new customer costs a commit of its own.
        """
        return self.keys.ensure_subjects({s or ANONYMOUS_SUBJECT for s in subjects})

    def protect_event(self, payload: dict[str, Any], *, subject: str | None) -> dict[str, Any]:
        """Scrub cards/CVVs everywhere and encrypt PII keys within traits, properties and context."""
        walk = _Pass(self, subject or ANONYMOUS_SUBJECT, cards=may_hold_card(payload))
        protected: dict[str, Any] = {}
        for key, value in payload.items():
            if _key_kind(key) == _CVV:
                continue
            section = key if key in EVENT_SECTIONS and isinstance(value, dict) else None
            if walk.cards and isinstance(key, str):
                key = self.vault.tokenize_text(key)
            protected[key] = walk.walk(value, section)  # PII keys are encrypted inside sections only
        if walk.blind:
            protected["_blind"] = walk.blind
        return protected

    def protect_row(
        self, row: dict[str, Any], *, subject: str | None, pii_fields: set[str]
    ) -> dict[str, Any]:
        """Scrub cards/CVVs and encrypt the given dotted PII paths of an entity row."""
        walk = _Pass(self, subject or ANONYMOUS_SUBJECT, cards=may_hold_card(row))
        scrubbed: dict[str, Any] = walk.walk(row, None)
        for path in sorted(pii_fields):
            _encrypt_path(scrubbed, path.split("."), path, walk)
        if walk.blind:
            scrubbed["_blind"] = walk.blind
        return scrubbed

    def decrypt_field(self, token: str, field: str) -> str:
        """Clear text of one encrypted field (callers audit this)."""
        return decrypt_value(self.keys, token, field=field)

    def seal(self, data: bytes) -> bytes:
        """Dead-letter sealing: tokenize card numbers in the raw bytes, then AES-256-GCM."""
        text = data.decode("utf-8", errors="surrogateescape")
        scrubbed = self.vault.tokenize_text(text).encode("utf-8", errors="surrogateescape")
        key_id, cipher = self.keys.cipher_for_subject(DEAD_LETTER_SUBJECT)
        return key_id.encode() + b":" + seal(cipher, os.urandom(NONCE_BYTES), scrubbed, key_id.encode())

    def unseal(self, blob: bytes) -> bytes:
        """Inverse of :meth:`seal` (card numbers stay tokens)."""
        key_id, _, rest = blob.partition(b":")
        key = self.keys.key_by_id(key_id.decode())
        return open_sealed(AESGCM(key), rest, key_id)

    def shred(self, subject: str) -> int:
        """Crypto-shred a customer: delete their data key."""
        return self.keys.shred(subject)

    def rotate_kek(self, *, batch_size: int = 500, on_batch: Callable[[int], None] | None = None) -> int:
        """New active KEK version, then re-wrap every data key and vaulted PAN under it."""
        version = self.keyring.rotate()
        self.keys.rewrap_all(batch_size=batch_size, on_batch=on_batch)
        self.vault.rewrap_all(batch_size=batch_size)
        return version
