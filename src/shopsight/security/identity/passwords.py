"""Passwords: argon2id hashing with explicit parameters, rehash on parameter change, and the ASVS policy.

Policy (ASVS 5.0 V6.2): at least ``password_min_length`` characters (12), up to ``password_max_length`` so
pass phrases fit, any characters, no composition rules, and not one of the very common passwords nor the
user's own e-mail name, nor containing a context-specific word (ASVS V6.1.2: ``CONTEXT_WORDS``, the TOTP
issuer name and the ``password_context_words`` setting; matched case-insensitively, ignoring spaces,
punctuation and digit-for-letter spellings such as ``Sh0p-S1ght``). The common passwords are our shipped
list plus the ``common_passwords_top`` most frequent of zxcvbn's ranked list of 30,000 (ASVS V6.2.4 asks
for at least the top 3,000); the identity service builds that frozenset once. argon2-cffi compares
digests in constant time.
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


# Words a guesser tries first against ShopSight (ASVS 5.0 V6.1.2; listed in docs/security/asvs.md): the
# product name, the administrator words, and every role name. Operators add their shop's own words (its name,
# domain, brands) with ``password_context_words``; the TOTP issuer (default "ShopSight") is added too.
CONTEXT_WORDS = (
    "shopsight",
    "admin",
    "superuser",
    "analyst",
    "marketer",
    "support",
    "finance",
    "security",
    "datascientist",
)
MIN_CONTEXT_WORD = 4  # shorter words would refuse too many honest pass phrases
# Digits and symbols people swap in for letters; "1" is read both as "i" and as "l".
_LEET = (str.maketrans("0134578@$!|", "oieastbasil"), str.maketrans("0134578@$!|", "oleastbasil"))


def letters_only(text: str) -> str:
    """``text`` lower-cased with no spaces or punctuation: ``"Data_Scientist"`` -> ``"datascientist"``."""
    return "".join(char for char in text.lower() if char.isalpha())


def _spellings(password: str) -> set[str]:
    lowered = password.lower()
    return {letters_only(lowered)} | {letters_only(lowered.translate(table)) for table in _LEET}


def context_words(settings: IdentitySettings) -> frozenset[str]:
    """Every context-specific word refused inside a password, normalised by :func:`letters_only`."""
    words = (*CONTEXT_WORDS, settings.totp_issuer, *settings.password_context_words)
    return frozenset(word for word in map(letters_only, words) if len(word) >= MIN_CONTEXT_WORD)


def contained_context_words(password: str, settings: IdentitySettings) -> list[str]:
    """The context words ``password`` contains, however spelt (the list is public; the password is not
    echoed)."""
    spellings = _spellings(password)
    return sorted(word for word in context_words(settings) if any(word in spelling for spelling in spellings))


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
    found = contained_context_words(password, settings)
    if found:
        problems.append(f"password must not contain words tied to this system: {', '.join(found)}")
    return problems


def check_password(
    password: str, *, email: str, settings: IdentitySettings, common: frozenset[str] | None = None
) -> None:
    """Raise :class:`WeakPassword` when ``password`` breaks the policy."""
    problems = password_problems(password, email=email, settings=settings, common=common)
    if problems:
        raise WeakPassword(problems)
