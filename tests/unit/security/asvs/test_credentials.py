"""Password and lookup-secret rules of ASVS V6 that the identity tests do not pin down on their own."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from shopsight.metadata.db import open_metadata
from shopsight.platform import Platform
from shopsight.privacy.keyring import Keyring
from shopsight.security.audit import RecordingAudit
from shopsight.security.identity import recovery, totp
from shopsight.security.identity.models import AuthOutcome, UserCreate
from shopsight.security.identity.passwords import password_problems
from shopsight.security.identity.roles import Role
from shopsight.security.identity.service import IdentityService
from shopsight.security.identity.settings import IdentitySettings

# Cheapest argon2id cost, and no lockout in the way of the near-miss guesses below.
CHEAP = IdentitySettings(
    argon2_time_cost=1, argon2_memory_cost_kib=8, argon2_parallelism=1, max_failed_logins=50
)
# Longer than bcrypt's 72-byte cut-off, with mixed case and a trailing space that a "trim" would drop.
LONG_PASSWORD = "Sphinx of Black Quartz, Judge My Vow " * 2 + "and then some more words ÄÖÜ "


@pytest.fixture
def metadata(tmp_path: Path) -> Iterator[Engine]:
    engine = open_metadata(f"sqlite:///{tmp_path / 'metadata.sqlite'}")
    yield engine
    engine.dispose()


@pytest.fixture
def service(metadata: Engine, tmp_path: Path) -> IdentityService:
    return IdentityService(metadata=metadata, keyring=Keyring(tmp_path / "keys"), audit=RecordingAudit(),
                           settings=CHEAP)  # fmt: skip


def test_the_password_is_checked_exactly_as_typed(service: IdentityService) -> None:
    """V6.2.8: no truncation, trimming or case folding before verification."""
    assert len(LONG_PASSWORD.encode()) > 72
    service.create_user(UserCreate(email="exact@example.com", role=Role.ANALYST), password=LONG_PASSWORD)
    assert service.authenticate("exact@example.com", LONG_PASSWORD).ok
    near_misses = [
        LONG_PASSWORD[:72], LONG_PASSWORD[:-1], LONG_PASSWORD.strip(), LONG_PASSWORD.lower(),
        LONG_PASSWORD.upper(), LONG_PASSWORD[:-2] + "X ", LONG_PASSWORD + " ",
    ]  # fmt: skip
    for guess in near_misses:
        outcome = service.authenticate("exact@example.com", guess).outcome
        assert outcome is AuthOutcome.INVALID_CREDENTIALS, repr(guess[-5:])


@pytest.mark.parametrize("length", [64, 100, 128])
def test_long_pass_phrases_are_accepted(service: IdentityService, length: int) -> None:
    """V6.2.9: passwords of at least 64 characters are permitted (the default maximum is 128)."""
    phrase = ("correct horse battery staple " * 5)[:length]
    email = f"long{length}@example.com"
    assert password_problems(phrase, email=email, settings=CHEAP) == []
    service.create_user(UserCreate(email=email, role=Role.ANALYST), password=phrase)
    assert service.authenticate(email, phrase).ok


def test_the_maximum_length_setting_cannot_go_below_64() -> None:
    """V6.2.9: the setting itself refuses a maximum that would forbid 64-character pass phrases."""
    with pytest.raises(ValueError, match="64"):
        IdentitySettings(password_max_length=63)
    with pytest.raises(ValueError, match="8"):
        IdentitySettings(password_min_length=7)  # V6.2.1: never below 8


def test_there_are_no_password_hints_or_secret_questions(metadata: Engine) -> None:
    """V6.4.2: nothing in the identity tables could hold a hint or a knowledge-based answer."""
    columns = {
        column["name"].lower()
        for table in inspect(metadata).get_table_names()
        for column in inspect(metadata).get_columns(table)
    }
    assert "password_hash" in columns  # the users table is there
    assert not {c for c in columns if any(w in c for w in ("hint", "question", "answer", "security_q"))}


def test_lookup_secrets_have_enough_entropy_and_do_not_repeat() -> None:
    """V6.5.4: recovery codes carry far more than 20 bits; V6.5.3: 2,000 draws never repeat."""
    bits = recovery.CODE_LENGTH * math.log2(len(set(recovery.ALPHABET)))
    assert bits >= 20 and len(set(recovery.ALPHABET)) == len(recovery.ALPHABET)
    codes = recovery.new_recovery_codes(2_000)
    assert len(set(codes)) == len(codes)
    assert all(recovery.looks_like_recovery_code(code) for code in codes)
    assert totp.DIGITS >= 6 and totp.STEP_SECONDS == 30  # ASVS: six random digits suffice


def test_totp_secrets_are_160_bits_and_fresh_each_time() -> None:
    """V6.5.3: seeds come from pyotp.random_base32 (``secrets``) at 160 bits, RFC 4226's recommendation."""
    seeds = {totp.new_secret() for _ in range(500)}
    assert len(seeds) == 500
    assert all(len(seed) * 5 >= 160 for seed in seeds)


def test_passwords_do_not_expire(metadata: Engine, tmp_path: Path) -> None:
    """V6.2.10: no periodic rotation: a password still works years later."""
    clock = _Clock()
    service = IdentityService(metadata=metadata, keyring=Keyring(tmp_path / "keys"), audit=RecordingAudit(),
                              settings=CHEAP, clock=clock)  # fmt: skip
    service.create_user(UserCreate(email="old@example.com", role=Role.ANALYST), password=LONG_PASSWORD)
    clock.now += timedelta(days=3 * 365)
    assert service.authenticate("old@example.com", LONG_PASSWORD).ok


def test_a_fresh_install_has_no_accounts(platform: Platform) -> None:
    """V6.3.2: no built-in root/admin account exists until someone creates one."""
    assert IdentityService.for_platform(platform, RecordingAudit()).list_users() == []


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now
