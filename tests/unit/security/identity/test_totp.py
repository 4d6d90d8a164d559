"""RFC 6238 Appendix B vectors, the one-step window and replay refusal of the TOTP module."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from shopsight.security.identity import totp

# RFC 6238 Appendix B. The seeds are ASCII; the errata (EID 2866) give SHA-256 and SHA-512 the 32- and
# 64-byte seeds their reference implementation uses (the RFC's text repeats the 20-byte one).
SEEDS: dict[str, tuple[bytes, Callable[..., Any]]] = {
    "SHA1": (b"12345678901234567890", hashlib.sha1),
    "SHA256": (b"12345678901234567890123456789012", hashlib.sha256),
    "SHA512": (b"1234567890123456789012345678901234567890123456789012345678901234", hashlib.sha512),
}
VECTORS = [
    (59, "SHA1", "94287082"),
    (59, "SHA256", "46119246"),
    (59, "SHA512", "90693936"),
    (1111111109, "SHA1", "07081804"),
    (1111111109, "SHA256", "68084774"),
    (1111111109, "SHA512", "25091201"),
    (1111111111, "SHA1", "14050471"),
    (1111111111, "SHA256", "67062674"),
    (1111111111, "SHA512", "99943326"),
    (1234567890, "SHA1", "89005924"),
    (1234567890, "SHA256", "91819424"),
    (1234567890, "SHA512", "93441116"),
    (2000000000, "SHA1", "69279037"),
    (2000000000, "SHA256", "90698825"),
    (2000000000, "SHA512", "38618901"),
    (20000000000, "SHA1", "65353130"),
    (20000000000, "SHA256", "77737706"),
    (20000000000, "SHA512", "47863826"),
]
SECRET = base64.b32encode(b"12345678901234567890").decode()


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


@pytest.mark.parametrize(("unix", "mode", "expected"), VECTORS)
def test_rfc6238_appendix_b_vectors(unix: int, mode: str, expected: str) -> None:
    seed, digest = SEEDS[mode]
    secret = base64.b32encode(seed).decode()  # pyotp takes the seed in base32
    assert totp.code_at(secret, _at(unix), digits=8, digest=digest) == expected
    step = totp.accepted_step(secret, expected, at=_at(unix), last_step=None, digits=8, digest=digest)
    assert step == unix // 30


def test_a_replayed_code_is_refused() -> None:
    at = _at(1111111111)
    code = totp.code_at(SECRET, at)
    step = totp.accepted_step(SECRET, code, at=at, last_step=None)
    assert step is not None
    assert totp.accepted_step(SECRET, code, at=at, last_step=step) is None
    assert totp.accepted_step(SECRET, code, at=_at(1111111111 + 20), last_step=step) is None


def test_an_earlier_step_is_refused_after_a_later_one_was_accepted() -> None:
    at = _at(1111111111)
    previous = totp.code_at(SECRET, _at(1111111111 - 30))
    assert totp.accepted_step(SECRET, previous, at=at, last_step=totp.time_step(at)) is None


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-60, False), (-30, True), (0, True), (30, True), (60, False)]
)
def test_the_window_is_one_step_either_way(offset: int, accepted: bool) -> None:
    # Whatever the second inside a step, +-30 s is the neighbouring step and +-60 s two steps away.
    now = 1111111095
    code = totp.code_at(SECRET, _at(now + offset))
    assert (totp.accepted_step(SECRET, code, at=_at(now), last_step=None) is not None) is accepted


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5"])
def test_malformed_codes_are_refused(code: str) -> None:
    assert totp.accepted_step(SECRET, code, at=_at(59), last_step=None) is None


def test_provisioning_uri_and_qr_code() -> None:
    secret = totp.new_secret()
    assert len(base64.b32decode(secret)) == 20  # 160 bits
    uri = totp.provisioning_uri(secret, account="ada@example.com", issuer="ShopSight")
    assert uri.startswith("otpauth://totp/ShopSight:ada%40example.com?")
    assert f"secret={secret}" in uri and "issuer=ShopSight" in uri
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
