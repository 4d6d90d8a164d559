"""One-time recovery codes: ten random codes shown once at enrollment, stored only as keyed digests."""

from __future__ import annotations

import secrets

from shopsight.security.identity.at_rest import keyed_digest

# No 0/o, 1/l/i: codes are typed from paper. 31 symbols x 10 = about 49.5 bits per code.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10
PURPOSE = "recovery-code"


def new_recovery_codes(count: int) -> list[str]:
    """``count`` fresh codes formatted ``xxxxx-xxxxx``."""
    return [_format(_random_code()) for _ in range(count)]


def _random_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def _format(code: str) -> str:
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def normalize_recovery_code(code: str) -> str:
    """What the user typed, without case, spaces or dashes."""
    return "".join(code.lower().split()).replace("-", "")


def looks_like_recovery_code(code: str) -> bool:
    """Whether ``code`` has the shape of a recovery code (rather than a TOTP code)."""
    normalized = normalize_recovery_code(code)
    return len(normalized) == CODE_LENGTH and all(c in ALPHABET for c in normalized)


def recovery_code_digest(key: bytes, code: str) -> str:
    """The keyed digest a code is stored and looked up by."""
    return keyed_digest(key, purpose=PURPOSE, value=normalize_recovery_code(code))
