"""Context-specific words in passwords (ASVS V6.1.2): the documented list, however spelt, and the shop's
own words from the settings are refused; the list in docs/security/asvs.md is the list in the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shopsight.security.identity.models import UserCreate
from shopsight.security.identity.passwords import (
    CONTEXT_WORDS,
    WeakPassword,
    context_words,
    letters_only,
    password_problems,
)
from shopsight.security.identity.roles import Role
from shopsight.security.identity.service import IdentityService
from shopsight.security.identity.settings import IdentitySettings

from .conftest import PASSWORD

DOC = Path(__file__).resolve().parents[4] / "docs" / "security" / "asvs.md"


def _context_problems(password: str, settings: IdentitySettings) -> list[str]:
    problems = password_problems(password, email="ada@example.com", settings=settings)
    return [p for p in problems if "words tied to this system" in p]


@pytest.mark.parametrize(
    ("password", "word"),
    [
        ("ShopSight rocks in 2026!", "shopsight"),
        ("my Sh0p-S1ght pass phrase", "shopsight"),
        ("the ADMIN of everything here", "admin"),
        ("4dm1n forever and ever", "admin"),
        ("data scientist at heart 42", "datascientist"),
        ("i lead the $ecur1ty team now", "security"),
        ("call superuser 911 please", "superuser"),
    ],
)
def test_context_words_are_refused_however_spelt(
    settings: IdentitySettings, password: str, word: str
) -> None:
    [problem] = _context_problems(password, settings)
    assert word in problem and password not in problem


def test_every_role_name_is_a_context_word() -> None:
    assert {letters_only(role.value) for role in Role} <= set(CONTEXT_WORDS)


def test_the_setting_and_the_totp_issuer_extend_the_list(settings: IdentitySettings) -> None:
    shop = settings.model_copy(update={"password_context_words": ["Acme Outdoor", "acme.com"]})
    assert _context_problems("acme-outdoor trail runner 7", shop) != []
    assert _context_problems("love shopping at ACME.COM!", shop) != []
    assert _context_problems("acme-outdoor trail runner 7", settings) == []
    issuer = settings.model_copy(update={"totp_issuer": "Northwind Traders"})
    assert _context_problems("northwind traders 2026 rocks", issuer) != []


def test_short_words_are_ignored_and_ordinary_phrases_pass(settings: IdentitySettings) -> None:
    short = settings.model_copy(update={"password_context_words": ["abc", "xy"]})
    assert "abc" not in context_words(short)
    assert password_problems("abc is a fine pass phrase", email="ada@example.com", settings=short) == []
    assert password_problems(PASSWORD, email="ada@example.com", settings=settings) == []


def test_the_service_refuses_a_context_word_on_create_and_reset(service: IdentityService) -> None:
    with pytest.raises(WeakPassword, match="shopsight"):
        service.create_user(
            UserCreate(email="ann@example.com", role=Role.ANALYST), password="shopsight is great 2026"
        )
    service.create_user(UserCreate(email="ann@example.com", role=Role.ANALYST), password=PASSWORD)
    with pytest.raises(WeakPassword, match="analyst"):
        service.reset_password("ann@example.com", new_password="Analyst-Of-The-Year-2026", actor="admin-1")


def test_the_documented_list_is_the_list_in_the_code() -> None:
    found = re.search(r"^Context-specific words \(V6\.1\.2\): (.+?)\.$", DOC.read_text(), re.MULTILINE)
    assert found is not None, "the list of context-specific words is missing from asvs.md"
    assert re.findall(r"`([a-z]+)`", found.group(1)) == list(CONTEXT_WORDS)
