"""Card tokenization (PCI DSS 3.3.1, 3.4.1, 3.5.1): PANs never stored in clear, CVVs never stored.

Any Luhn-valid run of 13-19 digits (single spaces or dashes allowed between digits) whose first digit —
the ISO/IEC 7812 major industry identifier — is 2-6 (Mastercard 2/5, Amex/Diners/JCB 3, Visa 4,
Discover/UnionPay 6) becomes a random surrogate ``tok_...``. Restricting the first digit keeps epoch
timestamps in milliseconds (first digit 1) and similar ids from being mistaken for cards. The vault maps
a keyed HMAC of the PAN to its token, keeps the PAN only AES-256-GCM encrypted, and BIN + last 4 in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from shopsight.privacy.keyring import Keyring

# Whole tokens only: digits glued to letters or dashes (UUIDs, SKUs) are ids, not cards.
CARD_CANDIDATE = re.compile(r"(?<![\w-])[2-6](?:[ -]?\d){12,18}(?!\w|-\w)")
# CARD_CANDIDATE as it looks inside the JSON encoding of a whole document, so one scan in C can prove that
# no string or integer of the document holds a card. Digits, spaces and dashes are never escaped in JSON,
# and the character after a match is the same one, a closing quote or the backslash of an escape, so the
# look-ahead behaves alike. Only the look-behind differs: the first digit may follow an opening quote or the
# tail of an escape (\n, \u001f) where the string itself had a control character, so those also count as
# a boundary. The look-behind comes after the first digit so that the engine skips ahead to digits 2-6.
CARD_IN_JSON = re.compile(
    r"[2-6](?:(?<![\w-][2-6])|(?<=\\[btnfr][2-6])|(?<=\\u00[0-9a-f]{2}[2-6]))(?:[ -]?\d){12,18}(?!\w|-\w)"
)
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x78 for b in range(256))  # digit -> "0", else "x"
_THIRTEEN_DIGITS = b"0" * 13
CVV_KEYS = frozenset(
    {"cvv", "cvc", "cvv2", "cvc2", "cid", "csc", "cardsecuritycode", "securitycode",
     "cardverificationvalue", "cardcvv", "cardcvc", "cardverificationcode"}
)  # fmt: skip


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of a digit string."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def may_hold_card(value: Any) -> bool:
    """False when no string or int inside the JSON-like ``value`` can hold a card number.

    One scan in C over the JSON encoding instead of one regex search per string from Python. A value
    orjson cannot encode answers True, so the caller scans every string as before.
    """
    try:
        raw = orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: a type, key or integer JSON cannot carry
        return True
    # Cheapest necessary condition first: a candidate in ASCII text is 13 digits in a row once every space
    # and dash is deleted (other text goes straight to the regex, whose \d also matches other scripts).
    if raw.isascii() and _THIRTEEN_DIGITS not in raw.translate(_DIGITS_AS_ZERO, b" -"):
        return False
    return CARD_IN_JSON.search(raw.decode()) is not None


def is_cvv_key(key: str) -> bool:
    """Whether a field name denotes a card security code."""
    return key.lower().replace("_", "").replace("-", "") in CVV_KEYS


@dataclass(frozen=True)
class CardInfo:
    """What may be shown of a card: BIN (first 6) and last 4."""

    bin: str
    last4: str


class TokenVault:
    """PAN <-> token mapping; the same PAN always gets the same token (card reuse stays visible)."""

    def __init__(self, keyring: Keyring, folder: Path) -> None:
        self._lookup_key = keyring.hmac_key("vault_lookup_key")
        self._keyring = keyring
        self._db = sqlite3.connect(folder / "vault.sqlite", check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS cards (lookup TEXT PRIMARY KEY, token TEXT UNIQUE NOT NULL,"
            " kek_version INTEGER NOT NULL, pan_sealed BLOB NOT NULL, bin TEXT, last4 TEXT)"
        )
        self._db.commit()
        self._lock = threading.Lock()
        self._cache: dict[str, str] = {}

    def tokenize_pan(self, pan: str) -> str:
        """Token for a PAN (digits only), created on first sight."""
        lookup = hmac.new(self._lookup_key, pan.encode(), hashlib.sha256).hexdigest()
        with self._lock:
            cached = self._cache.get(lookup)
            if cached:
                return cached
            row = self._db.execute("SELECT token FROM cards WHERE lookup = ?", (lookup,)).fetchone()
            token = str(row[0]) if row else self._store(lookup, pan)
            self._cache[lookup] = token
            return token

    def _store(self, lookup: str, pan: str) -> str:
        token = "tok_" + base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        version, sealed = self._keyring.wrap(pan.encode(), token.encode())
        self._db.execute(
            "INSERT INTO cards VALUES (?, ?, ?, ?, ?, ?)", (lookup, token, version, sealed, pan[:6], pan[-4:])
        )
        self._db.commit()
        return token

    def detokenize(self, token: str) -> str:
        """The PAN behind a token (for authorized use only)."""
        with self._lock:
            row = self._db.execute(
                "SELECT kek_version, pan_sealed FROM cards WHERE token = ?", (token,)
            ).fetchone()
        if row is None:
            raise KeyError(token)
        return self._keyring.unwrap(int(row[0]), bytes(row[1]), token.encode()).decode()

    def rewrap_all(self, *, batch_size: int = 500) -> int:
        """Re-seal every PAN still under an older KEK with the active one, one transaction per batch.

        Each row changes version and sealed PAN together, so an interruption leaves every PAN readable.
        """
        target, total = self._keyring.active_version, 0
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT token, kek_version, pan_sealed FROM cards WHERE kek_version < ? LIMIT ?",
                    (target, batch_size),
                ).fetchall()
                updates = [self._resealed(str(t), int(v), bytes(sealed)) for t, v, sealed in rows]
                with self._db:  # the whole batch or nothing
                    self._db.executemany(
                        "UPDATE cards SET kek_version = ?, pan_sealed = ?"
                        " WHERE token = ? AND kek_version = ?",
                        updates,
                    )
            if not rows:
                return total
            total += len(rows)

    def _resealed(self, token: str, version: int, sealed: bytes) -> tuple[int, bytes, str, int]:
        pan = self._keyring.unwrap(version, sealed, token.encode())
        new_version, new_sealed = self._keyring.wrap(pan, token.encode())
        return new_version, new_sealed, token, version

    def card_info(self, token: str) -> CardInfo:
        """BIN and last 4 of a tokenized card."""
        with self._lock:
            row = self._db.execute("SELECT bin, last4 FROM cards WHERE token = ?", (token,)).fetchone()
        if row is None:
            raise KeyError(token)
        return CardInfo(str(row[0]), str(row[1]))

    def tokenize_text(self, text: str) -> str:
        """Replace every card number inside ``text`` with its token."""
        if len(text) < 13 or CARD_CANDIDATE.search(text) is None:  # the common case, in C
            return text
        return CARD_CANDIDATE.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return self.tokenize_pan(digits)
        return match.group(0)

    def scrub(self, value: Any) -> Any:
        """Tokenize cards in strings and ints and drop CVV keys, at any depth."""
        if isinstance(value, str):
            return self.tokenize_text(value)
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value >= 10**12:
            replaced = self.tokenize_text(str(value))
            return value if replaced == str(value) else replaced
        if isinstance(value, dict):
            return {
                self.tokenize_text(k) if isinstance(k, str) else k: self.scrub(v)
                for k, v in value.items()
                if not is_cvv_key(str(k))
            }
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value
