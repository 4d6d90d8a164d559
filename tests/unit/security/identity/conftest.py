"""Fixtures of the identity tests: a fake clock, a temp keyring and metadata store, cheap argon2 costs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from shopsight.metadata.db import open_metadata
from shopsight.privacy.keyring import Keyring
from shopsight.security.audit import RecordingAudit
from shopsight.security.identity.service import IdentityService
from shopsight.security.identity.settings import IdentitySettings

PASSWORD = "correct horse battery staple"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    # Mid-step (step 56_666_666 starts at 1_699_999_980), so +-30 s stays in the neighbouring steps.
    return FakeClock(datetime.fromtimestamp(1_699_999_995, UTC))


@pytest.fixture
def settings() -> IdentitySettings:
    # The smallest argon2id cost: these tests check behaviour, not hashing strength.
    return IdentitySettings(argon2_time_cost=1, argon2_memory_cost_kib=8, argon2_parallelism=1)


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring(tmp_path / "keys")


@pytest.fixture
def metadata(tmp_path: Path) -> Iterator[Engine]:
    engine = open_metadata(f"sqlite:///{tmp_path / 'metadata.sqlite'}")
    yield engine
    engine.dispose()


@pytest.fixture
def audit() -> RecordingAudit:
    return RecordingAudit()


@pytest.fixture
def service(
    metadata: Engine, keyring: Keyring, audit: RecordingAudit, settings: IdentitySettings, clock: FakeClock
) -> IdentityService:
    return IdentityService(metadata=metadata, keyring=keyring, audit=audit, settings=settings, clock=clock)
