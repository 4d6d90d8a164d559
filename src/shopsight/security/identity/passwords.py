"""Passwords: argon2id hashing with explicit parameters, rehash on parameter change, and the ASVS policy.

Policy (ASVS 5.0 V6.2): at least ``password_min_length`` characters (12), up to ``password_max_length`` so
pass phrases fit, any characters, no composition rules, and not one of the very common passwords nor the
user's own e-mail name. argon2-cffi compares digests in constant time.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

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


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of very common passwords, lower-cased (read once; immutable)."""
    text = resources.files("shopsight.security.identity").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line and not line.startswith("#"))


def password_problems(password: str, *, email: str, settings: IdentitySettings) -> list[str]:
    """Every way ``password`` breaks the policy (an empty list: acceptable). Never echoes the password."""
    problems: list[str] = []
    if len(password) < settings.password_min_length:
        problems.append(f"password must have at least {settings.password_min_length} characters")
    if len(password) > settings.password_max_length:
        problems.append(f"password must have at most {settings.password_max_length} characters")
    lowered = password.lower()
    if lowered in common_passwords():
        problems.append("password is one of the most common passwords")
    local_part = email.partition("@")[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        problems.append("password must not contain the e-mail name")
    return problems


def check_password(password: str, *, email: str, settings: IdentitySettings) -> None:
    """Raise :class:`WeakPassword` when ``password`` breaks the policy."""
    problems = password_problems(password, email=email, settings=settings)
    if problems:
        raise WeakPassword(problems)
