"""Plan runs on disk: one folder of Parquet tables per run and a ``CURRENT.json`` pointer switched
atomically (temp file + rename), as the warehouse publishes its versions, so a reader never sees half a
plan. The newest ``KEEP_RUNS`` runs are kept."""

from __future__ import annotations

import os
import secrets
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from shopsight.config import Settings
from shopsight.errors import ShopSightError

PLAN_TABLES = ("series", "forecast", "actuals", "risk", "replenishment", "pricing")
KEEP_RUNS = 3
NO_PLAN = "no plan yet: run `shopsight plan run` (quickstart runs it after building the warehouse)"


class NoPlan(ShopSightError):
    """No plan run was stored yet."""


class PlanInfo(BaseModel):
    """What one plan run computed from, with what settings, and how long it took."""

    run_id: str
    built_at: datetime
    warehouse_version: str
    as_of: date
    plan_day: date
    horizon: int
    backtest_horizon: int
    windows: int
    models: list[str]
    seconds: float
    rows: dict[str, int]
    settings: dict[str, float]


def plans_dir(settings: Settings) -> Path:
    """Where plan runs live: ``<home>/plans``."""
    return settings.home.resolve() / "plans"


def new_run_id() -> str:
    """A sortable, unique run id."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


class PlanStore:
    """The plans folder: runs and the pointer to the current one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pointer = root / "CURRENT.json"

    def write(self, info: PlanInfo, tables: dict[str, pa.Table]) -> PlanInfo:
        """Write every table of a run, then make it the current one."""
        missing = [name for name in PLAN_TABLES if name not in tables]
        if missing:
            raise ValueError(f"a plan needs every table; missing {', '.join(missing)}")
        staging = self.root / "staging" / info.run_id
        staging.mkdir(parents=True)
        for name in PLAN_TABLES:
            pq.write_table(tables[name], staging / f"{name}.parquet")
        final = self.root / "runs" / info.run_id
        final.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(final)
        temporary = self.pointer.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(info.model_dump(mode="json"), option=orjson.OPT_INDENT_2))
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        temporary.replace(self.pointer)
        self._prune(keep=info.run_id)
        return info

    def current(self) -> PlanInfo:
        """The current run's description (``NoPlan`` before the first run)."""
        if not self.pointer.exists():
            raise NoPlan(NO_PLAN)
        return PlanInfo.model_validate(orjson.loads(self.pointer.read_bytes()))

    def read(self, run_id: str, name: str) -> pa.Table:
        """One table of one run."""
        if name not in PLAN_TABLES:
            raise ValueError(f"unknown plan table {name!r}")
        return pq.read_table(self.root / "runs" / run_id / f"{name}.parquet")

    def _prune(self, keep: str) -> None:
        runs = sorted((self.root / "runs").iterdir())
        for old in runs[:-KEEP_RUNS]:
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)
