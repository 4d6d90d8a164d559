"""Blind indexes: keyed HMAC-SHA256 of a normalized value, for exact lookups and joins on PII."""

from __future__ import annotations

import hashlib
import hmac
import re

_NOT_DIGIT = re.compile(r"[^\d]")


def normalize(kind: str, value: str) -> str:
    """Canonical form so that equal emails / phones index equally."""
    if kind == "email":
        return value.strip().lower()
    if kind == "phone":
        digits = _NOT_DIGIT.sub("", value)
        return ("+" if value.strip().startswith("+") else "") + digits
    return value.strip()


def blind_index(key: bytes, kind: str, value: str) -> str:
    """Hex HMAC-SHA256 over ``kind`` and the normalized value (kinds never collide)."""
    message = f"{kind}\x00{normalize(kind, value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
