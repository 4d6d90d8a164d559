"""TOTP (RFC 6238) second factor: secrets, provisioning URI and QR code, one-time verification.

pyotp computes the codes; this module adds what its ``verify`` lacks. A code is accepted at most once:
the caller keeps the last accepted time step and any code of that step or an earlier one is refused, so
a code seen over a shoulder or in a proxy log cannot be replayed inside its 30-90 s lifetime. Clock drift
is tolerated by one step either way (``valid_window=1``), no more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pyotp
import segno
from pyotp.utils import strings_equal

STEP_SECONDS = 30
DIGITS = 6
MAX_DRIFT_STEPS = 1  # pyotp's valid_window: the previous, current and next step


def new_secret() -> str:
    """A random 160-bit TOTP secret in base32 (RFC 4226 recommends 160 bits)."""
    return pyotp.random_base32(length=32)


def _totp(secret: str, *, digits: int, digest: Callable[..., Any]) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=digits, digest=digest, interval=STEP_SECONDS)


def time_step(at: datetime) -> int:
    """The RFC 6238 time step (``T``) that ``at`` falls in."""
    return int(at.timestamp()) // STEP_SECONDS


def code_at(
    secret: str, at: datetime, *, digits: int = DIGITS, digest: Callable[..., Any] = hashlib.sha1
) -> str:
    """The code an authenticator shows at ``at``."""
    return _totp(secret, digits=digits, digest=digest).at(at)


def accepted_step(
    secret: str,
    code: str,
    *,
    at: datetime,
    last_step: int | None,
    digits: int = DIGITS,
    digest: Callable[..., Any] = hashlib.sha1,
) -> int | None:
    """The time step ``code`` is valid for, if it is within one step of ``at`` and later than ``last_step``.

    None means refuse: a wrong code, one outside the window, or a replay of an accepted step.
    """
    code = code.strip().replace(" ", "")
    if len(code) != digits or not code.isdigit():
        return None
    totp = _totp(secret, digits=digits, digest=digest)
    now = time_step(at)
    candidates = range(now - MAX_DRIFT_STEPS, now + MAX_DRIFT_STEPS + 1)
    matches = [step for step in candidates if strings_equal(totp.generate_otp(step), code)]
    fresh = [step for step in matches if last_step is None or step > last_step]
    return max(fresh) if fresh else None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI authenticator apps import (Key Uri Format)."""
    return _totp(secret, digits=DIGITS, digest=hashlib.sha1).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The provisioning URI as an SVG QR code (error correction M), ready to inline in a page."""
    return segno.make(uri, error="m", micro=False).svg_inline(scale=4)
