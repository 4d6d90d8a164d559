"""Fixtures of the policy tests: the shipped matrix, a fake encrypt/decrypt and a recording audit sink."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from shopsight.security.audit import RecordingAudit
from shopsight.security.policy.formats import Pseudonymizer
from shopsight.security.policy.masking import Masker
from shopsight.security.policy.matrix import MaskingMatrix

PSEUDONYM_KEY = bytes(range(32))
FAKE_PREFIX = "enc:v1:test-key:"


def fake_encrypt(value: str) -> str:
    """A stand-in ciphertext that does not contain the clear value (reversed, so the test can find it)."""
    return FAKE_PREFIX + value[::-1]


class FakeDecrypt:
    """Decrypts :func:`fake_encrypt` values and remembers which field paths it was asked about."""

    def __init__(self) -> None:
        self.fields: list[str] = []

    def __call__(self, token: str, field: str) -> str:
        self.fields.append(field)
        return token.removeprefix(FAKE_PREFIX)[::-1]


@dataclass
class MaskingSetup:
    """A masker with its own audit sink and fake decrypt, for one test (or one hypothesis example)."""

    masker: Masker
    audit: RecordingAudit = field(default_factory=RecordingAudit)
    decrypt: FakeDecrypt = field(default_factory=FakeDecrypt)


@pytest.fixture(scope="session")
def encrypt() -> Callable[[str], str]:
    return fake_encrypt


@pytest.fixture(scope="session")
def pseudonymizer() -> Pseudonymizer:
    return Pseudonymizer(PSEUDONYM_KEY)


@pytest.fixture(scope="session")
def matrix() -> MaskingMatrix:
    return MaskingMatrix.from_package()


@pytest.fixture(scope="session")
def new_setup(matrix: MaskingMatrix, pseudonymizer: Pseudonymizer) -> Callable[[], MaskingSetup]:
    """Builds a fresh masker, sink and decrypt (session-scoped, so hypothesis tests can use it)."""

    def build() -> MaskingSetup:
        audit, decrypt = RecordingAudit(), FakeDecrypt()
        masker = Masker(matrix=matrix, pseudonymizer=pseudonymizer, decrypt=decrypt, audit=audit)
        return MaskingSetup(masker=masker, audit=audit, decrypt=decrypt)

    return build


@pytest.fixture
def setup(new_setup: Callable[[], MaskingSetup]) -> MaskingSetup:
    return new_setup()
