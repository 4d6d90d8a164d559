"""Shared fixtures: an isolated platform home per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shopsight.config import Settings, load_settings
from shopsight.platform import Platform

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
