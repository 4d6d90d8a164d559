"""Passwords: argon2id hashing with explicit parameters, rehash on parameter change, and the ASVS policy.

Policy (ASVS 5.0 V6.2): at least ``password_min_length`` characters (12), up to ``password_max_length`` so
pass phrases fit, any characters, no composition rules, and not one of the very common passwords nor the
user's own e-mail name. The common passwords are our shipped list plus the ``common_passwords_top`` most
frequent of zxcvbn's ranked list of 30,000 (ASVS V6.2.4 asks for at least the top 3,000); the identity
service builds that frozenset once. argon2-cffi compares digests in constant time.
"""

from __future__ import annotations

from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]  # no py.typed

from shopsight.errors import ValidationFailed
from shopsight.security.identity.settings import IdentitySettings


class WeakPassword(ValidationFailed):
    """A new password broke the password policy; ``reasons`` says how."""


def password_hasher(settings: IdentitySettings) -> PasswordHasher:
    """An argon2id hasher with the configured cost (16-byte salt, 32-byte digest)."""
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def verify_password(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; a malformed hash is a mismatch, never an error."""
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def shipped_common_passwords() -> frozenset[str]:
    """Our own list of very common passwords (``common_passwords.txt``), lower-cased."""
    text = resources.files("shopsight.security.identity").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line and not line.startswith("#"))


def ranked_common_passwords(top: int) -> list[str]:
    """The ``top`` most frequent passwords of zxcvbn's ranked list (30,000 from breach corpora)."""
    ranked: list[str] = FREQUENCY_LISTS["passwords"]
    return ranked[:top]


def common_passwords(top: int = 30_000) -> frozenset[str]:
    """Every password refused as too common, lower-cased: the shipped list and zxcvbn's ``top``."""
    ranked = (password.lower() for password in ranked_common_passwords(top))
    return shipped_common_passwords() | frozenset(ranked)


def password_problems(
    password: str, *, email: str, settings: IdentitySettings, common: frozenset[str] | None = None
) -> list[str]:
    """Every way ``password`` breaks the policy (an empty list: acceptable). Never echoes the password.

    ``common`` is the set of :func:`common_passwords` (built from ``settings`` when not given)."""
    problems: list[str] = []
    if len(password) < settings.password_min_length:
        problems.append(f"password must have at least {settings.password_min_length} characters")
    if len(password) > settings.password_max_length:
        problems.append(f"password must have at most {settings.password_max_length} characters")
    lowered = password.lower()
    refused = common if common is not None else common_passwords(settings.common_passwords_top)
    if lowered in refused:
        problems.append("password is one of the most common passwords")
    local_part = email.partition("@")[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        problems.append("password must not contain the e-mail name")
    return problems


def check_password(
    password: str, *, email: str, settings: IdentitySettings, common: frozenset[str] | None = None
) -> None:
    """Raise :class:`WeakPassword` when ``password`` breaks the policy."""
    problems = password_problems(password, email=email, settings=settings, common=common)
    if problems:
        raise WeakPassword(problems)
