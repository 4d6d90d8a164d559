"""A published demo warehouse with a stored plan, for tests of the planning job, API and dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopsight.cli.plan import plan_warehouse
from shopsight.ml.planning.job import PlanOptions
from shopsight.ml.planning.store import PlanInfo
from shopsight.platform import Platform
from shopsight.testing.warehouse import build_demo_warehouse


def build_planned_warehouse(
    home: Path, *, events: int = 3_000, days: int = 60, seed: int = 3, options: PlanOptions | None = None,
    **settings: Any,
) -> tuple[Platform, PlanInfo]:  # fmt: skip
    """A platform on ``home`` with a published demo warehouse and a plan computed from it.

    Returns the open platform (the caller closes it) and the plan run.
    """
    platform = build_demo_warehouse(home, events=events, days=days, seed=seed, **settings)
    return platform, plan_warehouse(platform.settings, options)
