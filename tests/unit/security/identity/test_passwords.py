"""Password policy and argon2id hashing, including rehash when the parameters change."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from shopsight.privacy.keyring import Keyring
from shopsight.security.audit import RecordingAudit
from shopsight.security.identity.models import UserCreate
from shopsight.security.identity.passwords import (
    WeakPassword,
    check_password,
    common_passwords,
    password_hasher,
    password_problems,
    ranked_common_passwords,
    shipped_common_passwords,
    verify_password,
)
from shopsight.security.identity.roles import Role
from shopsight.security.identity.service import IdentityService
from shopsight.security.identity.settings import IdentitySettings
from shopsight.security.identity.tables import users

from .conftest import PASSWORD, FakeClock


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-pass1", "at least 12 characters"),
        ("Password1234", "most common passwords"),
        ("QWERTYUIOP123", "most common passwords"),
        ("ada.lovelace-rocks-2024", "e-mail name"),
        ("x" * 129, "at most 128 characters"),
    ],
)
def test_weak_passwords_are_refused(settings: IdentitySettings, password: str, problem: str) -> None:
    problems = password_problems(password, email="ada.lovelace@example.com", settings=settings)
    assert any(problem in p for p in problems)
    with pytest.raises(WeakPassword) as raised:
        check_password(password, email="ada.lovelace@example.com", settings=settings)
    assert password not in str(raised.value)


@pytest.mark.parametrize("password", [PASSWORD, "ünïcödé pass phrase ✓", " twelve chars"])
def test_any_long_enough_uncommon_password_is_accepted(settings: IdentitySettings, password: str) -> None:
    assert password_problems(password, email="ada@example.com", settings=settings) == []


def test_hash_is_argon2id_with_the_configured_parameters(settings: IdentitySettings) -> None:
    hasher = password_hasher(settings)
    stored = hasher.hash(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert verify_password(hasher, stored, PASSWORD)
    assert not verify_password(hasher, stored, PASSWORD + "!")
    assert not verify_password(hasher, "not a hash", PASSWORD)


def test_default_parameters_are_rfc9106_second_recommendation() -> None:
    assert password_hasher(IdentitySettings()).hash(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def _stored_hash(metadata: Engine) -> str:
    with metadata.connect() as conn:
        return str(conn.execute(select(users.c.password_hash)).scalar_one())


def test_a_login_rehashes_when_the_parameters_changed(
    metadata: Engine, keyring: Keyring, settings: IdentitySettings, clock: FakeClock
) -> None:
    audit = RecordingAudit()
    old = IdentityService(metadata=metadata, keyring=keyring, audit=audit, settings=settings, clock=clock)
    old.create_user(UserCreate(email="ada@example.com", role=Role.ANALYST), password=PASSWORD)
    before = _stored_hash(metadata)
    assert old.authenticate("ada@example.com", PASSWORD).ok
    assert _stored_hash(metadata) == before  # same parameters: untouched

    stronger = settings.model_copy(update={"argon2_time_cost": 2, "argon2_memory_cost_kib": 16})
    new = IdentityService(metadata=metadata, keyring=keyring, audit=audit, settings=stronger, clock=clock)
    assert not new.authenticate("ada@example.com", "wrong password!").ok
    assert _stored_hash(metadata) == before  # a failed login never rehashes
    assert new.authenticate("ada@example.com", PASSWORD).ok
    after = _stored_hash(metadata)
    assert after.startswith("$argon2id$v=19$m=16,t=2,p=1$")
    assert new.authenticate("ada@example.com", PASSWORD).ok
    assert _stored_hash(metadata) == after


def test_every_top_3000_password_of_the_ranked_list_is_refused() -> None:
    """ASVS V6.2.4: the top 3,000 of zxcvbn's breach-ranked list (the default refuses all 30,000)."""
    settings = IdentitySettings(password_min_length=8)  # shorter minimum: the list, not the length, refuses
    common = common_passwords(settings.common_passwords_top)
    top = [password for password in ranked_common_passwords(3_000) if len(password) >= 8]
    assert len(top) > 800 and "1qaz2wsx3edc" in top
    for password in top:
        problems = password_problems(password, email="ada@example.com", settings=settings, common=common)
        assert "password is one of the most common passwords" in problems, password
    refused = password_problems("LeaveMeAlone", email="ada@example.com", settings=IdentitySettings())
    assert refused == ["password is one of the most common passwords"]  # 12 characters, rank < 3000


def test_a_strong_pass_phrase_passes_the_large_list(settings: IdentitySettings) -> None:
    common = common_passwords(settings.common_passwords_top)
    assert len(common) >= 29_000 and common >= shipped_common_passwords()
    for phrase in ("velvet tractor sings at midnight", "Quartz-lantern-Fjord-41"):
        assert password_problems(phrase, email="ada@example.com", settings=settings, common=common) == []


def test_the_list_size_cannot_go_below_3000_and_the_service_builds_it_once(
    metadata: Engine, keyring: Keyring, settings: IdentitySettings
) -> None:
    with pytest.raises(ValueError, match="3000"):
        IdentitySettings(common_passwords_top=2_999)
    small = settings.model_copy(update={"common_passwords_top": 3_000})
    service = IdentityService(metadata=metadata, keyring=keyring, audit=RecordingAudit(), settings=small)
    with pytest.raises(WeakPassword):  # rank 1,352 of the list
        service.create_user(UserCreate(email="a@example.com", role=Role.ANALYST), password="1q2w3e4r5t6y")
    # rank 3,597: past this service's 3,000, refused by the default 30,000
    service.create_user(UserCreate(email="a@example.com", role=Role.ANALYST), password="qazwsxedc123")
    assert password_problems("qazwsxedc123", email="a@example.com", settings=settings) != []
