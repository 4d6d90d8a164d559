"""Fixtures several unit test folders share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shopsight.ml.planning.store import PlanInfo
from shopsight.platform import Platform
from shopsight.security.identity.settings import IdentitySettings
from shopsight.testing.planning import build_planned_warehouse

FAST_HASHING = IdentitySettings(argon2_time_cost=1, argon2_memory_cost_kib=1024, argon2_parallelism=1)


@pytest.fixture(scope="session")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, PlanInfo]]:
    """A 60-day demo store built into a published warehouse, and the plan computed from it (built once:
    the planning job, the planning API and its access checks all read it, none writes to it)."""
    platform, info = build_planned_warehouse(
        tmp_path_factory.mktemp("planned-home"), events=3_000, days=60, seed=3, identity=FAST_HASHING
    )
    yield platform, info
    platform.close()
