"""Masked renderings keep only what the issue allows, and pseudonyms are stable, keyed and irreversible."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopsight.errors import ConfigError
from shopsight.security.policy.formats import (
    Pseudonymizer,
    initials,
    last4,
    mask_email,
    mask_phone,
    mask_text,
)


@pytest.mark.parametrize(
    ("clear", "masked"),
    [
        ("jane.doe@example.com", "j***@example.com"),
        ("j@example.com", "j***@example.com"),
        ("odd@local@example.org", "o***@example.org"),  # the domain is what follows the last @
        ("not-an-email", "***"),
        ("@example.com", "***"),
        ("", ""),
    ],
)
def test_mask_email(clear: str, masked: str) -> None:
    assert mask_email(clear) == masked


@pytest.mark.parametrize(
    ("clear", "masked"),
    [
        ("+1 (555) 123-4567", "*******4567"),  # 11 digits: last 4
        ("06 12 34 56 78", "******5678"),
        ("1234567", "*****67"),  # under 8 digits: last 2
        ("1234", "**34"),
        ("123", "***"),  # under 4 digits: nothing
        ("ext.", "***"),
    ],
)
def test_mask_phone(clear: str, masked: str) -> None:
    assert mask_phone(clear) == masked


@pytest.mark.parametrize(
    ("clear", "masked"),
    [("Jane", "J."), ("Mary-Ann Smith", "M. A. S."), ("  van  der Berg ", "v. d. B."), ("", "")],
)
def test_initials(clear: str, masked: str) -> None:
    assert initials(clear) == masked


@pytest.mark.parametrize(
    ("clear", "masked"), [("4242", "**** 4242"), ("4000056655665556", "**** 5556"), ("12", "****")]
)
def test_last4(clear: str, masked: str) -> None:
    assert last4(clear) == masked


def test_mask_text() -> None:
    assert mask_text("12 Main Street") == "***"
    assert mask_text("") == ""


@given(st.emails())
def test_a_masked_email_keeps_only_the_first_character_and_the_domain(email: str) -> None:
    local, _, domain = email.rpartition("@")
    masked = mask_email(email)
    assert masked == f"{local[0]}***@{domain}"
    if len(local) > 1 and "*" not in local:
        assert email not in masked
        assert local not in masked.partition("@")[0]


@given(st.text(alphabet="0123456789 +-().", min_size=1, max_size=25))
def test_a_masked_phone_shows_at_most_4_digits_and_at_most_half(phone: str) -> None:
    digits = "".join(char for char in phone if char.isdigit())
    masked = mask_phone(phone)
    shown = "".join(char for char in masked if char.isdigit())
    assert len(shown) <= 4
    assert len(shown) <= len(digits) // 2
    assert digits.endswith(shown)
    if digits:
        assert digits not in masked
        assert phone not in masked


def test_pseudonyms_are_a_keyed_hmac_not_a_plain_hash() -> None:
    key = bytes(range(32))
    pseudonym = Pseudonymizer(key)("cust-42")
    expected = hmac.new(key, b"shopsight/pseudonym/v1\x00cust-42", hashlib.sha256).hexdigest()[:32]
    assert pseudonym == "psn_" + expected
    assert expected not in {hashlib.sha256(b"cust-42").hexdigest()[:32], hashlib.md5(b"cust-42").hexdigest()}


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_pseudonyms_are_stable_per_key_and_distinct_across_keys_and_ids(first: str, second: str) -> None:
    one, other = Pseudonymizer(b"k" * 32), Pseudonymizer(b"q" * 32)
    assert one(first) == Pseudonymizer(b"k" * 32)(first)
    assert one(first) != other(first)
    assert (one(first) == one(second)) is (first == second)


def test_a_short_pseudonym_key_is_refused_and_the_key_is_never_shown() -> None:
    with pytest.raises(ConfigError, match="32 bytes"):
        Pseudonymizer(b"short")
    assert "k" * 32 not in repr(Pseudonymizer(b"k" * 32))
