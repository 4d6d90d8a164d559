"""Shared fixtures: an isolated platform home per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from shopsight.config import Settings, load_settings
from shopsight.platform import Platform

# A busy 2-core CI machine makes generation slow, not wrong: time limits would fail correct code at random.
hypothesis_settings.register_profile(
    "shopsight", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
hypothesis_settings.load_profile("shopsight")

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose every engine lives under a fresh temporary home."""
    return load_settings(home=tmp_path / "home", log_group_commit_ms=0.5)


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    """A platform on the embedded engines, closed after the test."""
    built = Platform(settings)
    yield built
    built.close()


@pytest.fixture
def datasets() -> Path:
    """The shared real datasets folder (../shared/datasets beside the checkout)."""
    if not DATASETS.is_dir():
        pytest.fail(f"real datasets not found at {DATASETS}")
    return DATASETS
