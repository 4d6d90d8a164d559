"""How one value looks once masked: partial emails and phones, initials, last 4, keyed pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
import re

from shopsight.errors import ConfigError

HIDDEN_TEXT = "***"
PSEUDONYM_PREFIX = "psn_"
MIN_PSEUDONYM_KEY_BYTES = 32
_PSEUDONYM_CONTEXT = b"shopsight/pseudonym/v1\x00"  # domain separation from other HMACs under a shared key
_NAME_PARTS = re.compile(r"[\s\-]+")
_ASCII_DIGITS = frozenset("0123456789")


def mask_email(value: str) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com``: first character and domain only."""
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return mask_text(value)
    return f"{local[0]}{HIDDEN_TEXT}@{domain}"


def mask_phone(value: str) -> str:
    """``+1 555-123-4567`` -> ``*******4567``: the last 4 digits (last 2 under 8 digits, none under 4)."""
    digits = [char for char in value if char in _ASCII_DIGITS]
    if not digits:
        return mask_text(value)
    keep = 4 if len(digits) >= 8 else 2 if len(digits) >= 4 else 0
    return "*" * (len(digits) - keep) + "".join(digits[len(digits) - keep :])


def initials(value: str) -> str:
    """``Mary-Ann Smith`` -> ``M. A. S.``: the first letter of every part of a name."""
    return " ".join(f"{part[0]}." for part in _NAME_PARTS.split(value.strip()) if part)


def mask_text(value: str) -> str:
    """Any other text: only whether there is a value."""
    return HIDDEN_TEXT if value else ""


def last4(value: str) -> str:
    """``4242`` or a longer digit string -> ``**** 4242``; fewer than 4 digits -> ``****``."""
    digits = "".join(char for char in value if char in _ASCII_DIGITS)
    return f"**** {digits[-4:]}" if len(digits) >= 4 else "****"


class Pseudonymizer:
    """Stable pseudonyms for ids: HMAC-SHA256 under a secret key, so the same id always maps to the same
    pseudonym (joins and distinct counts still work) but nobody without the key can map it back or check a
    guess, which a plain hash of a guessable id would allow."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_PSEUDONYM_KEY_BYTES:
            raise ConfigError(f"the pseudonym key needs at least {MIN_PSEUDONYM_KEY_BYTES} bytes")
        self._key = key

    def __call__(self, value: str) -> str:
        """The pseudonym of one id: ``psn_`` and 128 bits of the HMAC in hex."""
        digest = hmac.new(self._key, _PSEUDONYM_CONTEXT + value.encode(), hashlib.sha256).hexdigest()
        return PSEUDONYM_PREFIX + digest[:32]

    def __repr__(self) -> str:
        return "Pseudonymizer(key=<hidden>)"
