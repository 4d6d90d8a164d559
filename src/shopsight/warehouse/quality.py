"""Declarative data-quality checks on the staged warehouse, run between build and publish.

The checks live in ``checks.yaml`` next to this module: per table, a list of checks (not_null, unique,
relationship, accepted_values, range, freshness, row_count), each ``warn`` or ``block``. Every check is an
Ibis expression over the staged tables, so it runs unchanged on DuckDB and on Spark. A failed ``block``
check keeps the run from being published; every result is stored in the metadata store as history.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import ibis
import ibis.expr.types as ir
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Engine

from shopsight.errors import ConfigError, ShopSightError
from shopsight.warehouse.quality_history import CheckResult, record_run, row_count_history

CHECKS_FILE = Path(__file__).with_name("checks.yaml")
Scalar = str | int | float | bool


class Severity(StrEnum):
    """What a failed check does: ``warn`` reports, ``block`` keeps the run from being published."""

    warn = "warn"
    block = "block"


@dataclass(frozen=True)
class Outcome:
    """What a check found: ``failed`` is None when it could not judge (skipped)."""

    failed: bool | None
    observed: float | None
    message: str


@dataclass(frozen=True)
class CheckScope:
    """What checks see: the staged tables, their row counts, earlier runs' row counts and the run time."""

    tables: Mapping[str, ir.Table]
    row_counts: Mapping[str, int]
    history: Mapping[str, list[int]]
    now: datetime


def _value(expr: ir.Scalar) -> Any:
    return expr.to_pyarrow().as_py()


def _rows_failing(count: int, what: str) -> Outcome:
    return Outcome(count > 0, float(count), f"{count:,} {what}" if count else "ok")


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Severity = Severity.warn
    name: str | None = None  # shown and stored; defaults to kind(columns)
    where: dict[str, Scalar] | None = None  # only rows whose columns equal these values

    def label(self) -> str:
        """The check's name in reports and history."""
        return self.name or self.default_name()

    def default_name(self) -> str:
        """kind(columns): what the check looks at."""
        raise NotImplementedError

    def expectation(self) -> str:
        """What must hold, in words."""
        raise NotImplementedError

    def reads(self) -> set[str]:
        """Tables the check reads besides its own."""
        return set()

    def measure(self, table: ir.Table, name: str, scope: CheckScope) -> Outcome:
        """Run the check on ``table`` (already filtered by ``where``)."""
        raise NotImplementedError

    def evaluate(self, name: str, scope: CheckScope) -> Outcome:
        """Run the check on the staged table ``name``."""
        table = scope.tables[name]
        for column, value in (self.where or {}).items():
            table = table.filter(table[column] == value)
        return self.measure(table, name, scope)


class NotNull(_Check):
    """No row has a NULL in any of ``columns``."""

    check: Literal["not_null"]
    columns: list[str] = Field(min_length=1)

    def default_name(self) -> str:
        return f"not_null({','.join(self.columns)})"

    def expectation(self) -> str:
        return f"no NULL in {', '.join(self.columns)}"

    def measure(self, table: ir.Table, name: str, scope: CheckScope) -> Outcome:
        nulls = table.filter(ibis.or_(*(table[c].isnull() for c in self.columns)))
        return _rows_failing(_value(nulls.count()), "row(s) with a NULL")


class Unique(_Check):
    """No two rows share the values of ``columns``."""

    check: Literal["unique"]
    columns: list[str] = Field(min_length=1)

    def default_name(self) -> str:
        return f"unique({','.join(self.columns)})"

    def expectation(self) -> str:
        return f"one row per {', '.join(self.columns)}"

    def measure(self, table: ir.Table, name: str, scope: CheckScope) -> Outcome:
        groups = table.group_by(self.columns).aggregate(_rows=ibis._.count())
        duplicated = groups.filter(groups._rows > 1)
        return _rows_failing(_value(duplicated.count()), "duplicated key(s)")


class Relationship(_Check):
    """Every non-NULL ``column`` value exists in ``to`` (``table.column``)."""

    check: Literal["relationship"]
    column: str
    to: str = Field(pattern=r"^\w+\.\w+$")

    def default_name(self) -> str:
        return f"relationship({self.column} -> {self.to})"

    def reads(self) -> set[str]:
        return {self.to.split(".")[0]}

    def expectation(self) -> str:
        return f"every {self.column} is a {self.to}"

    def measure(self, table: ir.Table, name: str, scope: CheckScope) -> Outcome:
        target_table, target_column = self.to.split(".")
        target = scope.tables[target_table]
        keys = target.select(_ref=target[target_column]).distinct()
        present = table.filter(table[self.column].notnull())
        orphans = present.anti_join(keys, present[self.column] == keys._ref)
        return _rows_failing(_value(orphans.count()), f"row(s) whose {self.column} is not in {self.to}")


class AcceptedValues(_Check):
    """Every non-NULL ``column`` value is one of ``values``."""

    check: Literal["accepted_values"]
    column: str
    values: list[Scalar] = Field(min_length=1)

    def default_name(self) -> str:
        return f"accepted_values({self.column})"

    def expectation(self) -> str:
        return f"{self.column} in {{{', '.join(map(str, self.values))}}}"

    def measure(self, table: ir.Table, name: str, scope: CheckScope) -> Outcome:
        column = table[self.column]
        other = table.filter(column.notnull() & ~column.isin(self.values))
        return _rows_failing(_value(other.count()), f"row(s) with another {self.column}")


class Range(_Check):
    """Every non-NULL ``column`` value lies in [min, max] (either bound may be left out)."""

    check: Literal["range"]
    column: str
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("a range check needs min, max or both")
        return self

    def default_name(self) -> str:
        return f"range({self.column})"

    def expectation(self) -> str:
        low = "-inf" if self.min is None else f"{self.min:g}"
        high = "inf" if self.max is None else f"{self.max:g}"
        return f"{self.column} in [{low}, {high}]"

    def measure(self, table: ir.Table, name: str, scope: CheckScope) -> Outcome:
        column = table[self.column]
        outside = ibis.literal(False)
        if self.min is not None:
            outside |= column < self.min
        if self.max is not None:
            outside |= column > self.max
        return _rows_failing(_value(table.filter(outside).count()), "row(s) out of range")


class Freshness(_Check):
    """The newest ``column`` value is at most ``max_age_hours`` older than the reference.

    ``reference`` is ``run`` (the audit time) or ``table.column`` (its newest value, e.g. the newest raw
    record, so a curated table is checked to cover everything that arrived). A date counts as its end.
    """

    check: Literal["freshness"]
    column: str
    max_age_hours: float = Field(ge=0)
    reference: str = Field("run", pattern=r"^(run|\w+\.\w+)$")

    def default_name(self) -> str:
        return f"freshness({self.column})"

    def reads(self) -> set[str]:
        return set() if self.reference == "run" else {self.reference.split(".")[0]}

    def expectation(self) -> str:
        return f"newest {self.column} at most {self.max_age_hours:g} h before {self.reference}"

    def measure(self, table: ir.Table, name: str, scope: CheckScope) -> Outcome:
        newest = _instant(_value(table[self.column].max()))
        reference = scope.now if self.reference == "run" else self._newest_reference(scope)
        if newest is None or reference is None:
            return Outcome(None, None, "no data to judge")
        age = max((reference - newest).total_seconds() / 3600, 0.0)
        return Outcome(age > self.max_age_hours, round(age, 3), f"newest {self.column} is {age:,.1f} h old")

    def _newest_reference(self, scope: CheckScope) -> datetime | None:
        table_name, column = self.reference.split(".")
        return _instant(_value(scope.tables[table_name][column].max()))


def _instant(value: object) -> datetime | None:
    """An aware UTC datetime (dates count as the end of the day, naive times as UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC) + timedelta(days=1)
    return None


class RowCount(_Check):
    """The row count stays near its history: within mean ± ``sigmas``·std of the last ``runs`` runs
    and/or within ``max_change`` (relative) of the previous run. Skipped with under ``min_runs`` runs.
    """

    check: Literal["row_count"]
    runs: int = Field(10, ge=1)
    min_runs: int = Field(3, ge=1)
    sigmas: float | None = Field(3.0, gt=0)
    max_change: float | None = Field(None, gt=0)
    min_spread: float = Field(0.05, ge=0)  # std floor, relative to the mean: steady counts may wobble

    def default_name(self) -> str:
        return "row_count"

    def expectation(self) -> str:
        parts = [f"within mean ± {self.sigmas:g}·std of the last {self.runs} runs"] if self.sigmas else []
        parts += [f"within {self.max_change:.0%} of the previous run"] if self.max_change else []
        return " and ".join(parts) or "any row count"

    def measure(self, table: ir.Table, name: str, scope: CheckScope) -> Outcome:
        rows = scope.row_counts[name]
        past = scope.history.get(name, [])[: self.runs]
        if len(past) < self.min_runs:
            return Outcome(None, float(rows), f"{len(past)} earlier run(s), {self.min_runs} needed")
        problems = self._band_problem(rows, past) + self._change_problem(rows, past[0])
        return Outcome(bool(problems), float(rows), "; ".join(problems) or f"{rows:,} rows")

    def _band_problem(self, rows: int, past: list[int]) -> list[str]:
        if self.sigmas is None:
            return []
        mean = statistics.fmean(past)
        spread = self.sigmas * max(statistics.pstdev(past), self.min_spread * mean)
        if abs(rows - mean) <= spread:
            return []
        return [f"{rows:,} rows outside {mean - spread:,.0f}..{mean + spread:,.0f}"]

    def _change_problem(self, rows: int, previous: int) -> list[str]:
        if self.max_change is None:
            return []
        change = abs(rows - previous) / max(previous, 1)
        return [f"{rows:,} rows, {change:.0%} away from {previous:,}"] if change > self.max_change else []


Check = Annotated[
    NotNull | Unique | Relationship | AcceptedValues | Range | Freshness | RowCount,
    Field(discriminator="check"),
]


class CheckSuite(BaseModel):
    """Checks per table, as written in a checks file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tables: dict[str, list[Check]]

    def referenced_tables(self) -> set[str]:
        """Every table the checks read (checked tables and relationship / freshness references)."""
        others = {name for checks in self.tables.values() for check in checks for name in check.reads()}
        return set(self.tables) | others


def load_checks(path: Path | None = None) -> CheckSuite:
    """The checks in ``path`` (default: the shipped ``checks.yaml``)."""
    path = path or CHECKS_FILE
    try:
        return CheckSuite.model_validate(yaml.safe_load(path.read_text()))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"bad checks file {path}: {exc}".replace("\n", " ")) from exc


@dataclass(frozen=True)
class QualityReport:
    """Every check result of one run."""

    run_id: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def blocking_failures(self) -> list[CheckResult]:
        """Failed ``block`` checks: the run must not be published."""
        return [r for r in self.results if r.status == "failed" and r.severity == Severity.block]

    @property
    def warnings(self) -> list[CheckResult]:
        """Failed ``warn`` checks."""
        return [r for r in self.results if r.status == "failed" and r.severity == Severity.warn]

    def summary(self) -> str:
        """One line: how many checks passed, warned, blocked and were skipped."""
        skipped = sum(r.status == "skipped" for r in self.results)
        passed = sum(r.status == "passed" for r in self.results)
        return (
            f"{len(self.results)} checks: {passed} passed, {len(self.warnings)} warning(s), "
            f"{len(self.blocking_failures)} blocking, {skipped} skipped"
        )


class BlockingQualityFailure(ShopSightError):
    """A blocking check failed, so the run was discarded and the previous version stays published."""

    def __init__(self, report: QualityReport) -> None:
        failed = "; ".join(f"{r.table} {r.check}: {r.message}" for r in report.blocking_failures)
        super().__init__(f"run {report.run_id} not published, blocking check(s) failed: {failed}")
        self.report = report


def evaluate(suite: CheckSuite, run_id: str, scope: CheckScope) -> list[CheckResult]:
    """Run every check of ``suite`` on the tables in ``scope``."""
    missing = suite.referenced_tables() - set(scope.tables)
    if missing:
        raise ConfigError(f"checks refer to tables that were not built: {', '.join(sorted(missing))}")
    return [
        _result(run_id, table, check, check.evaluate(table, scope), scope.now)
        for table, checks in suite.tables.items()
        for check in checks
    ]


def _result(run_id: str, table: str, check: Check, outcome: Outcome, now: datetime) -> CheckResult:
    status = "skipped" if outcome.failed is None else "failed" if outcome.failed else "passed"
    return CheckResult(
        run_id=run_id, table=table, check=check.label(), kind=check.check, severity=check.severity.value,
        status=status, observed=outcome.observed, expectation=check.expectation(), message=outcome.message,
        checked_at=now,
    )  # fmt: skip


def audit(
    *,
    tables: Mapping[str, ir.Table],
    run_id: str,
    metadata: Engine,
    checks: CheckSuite | None = None,
    row_counts: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> QualityReport:
    """Run every check on the staged ``tables``, store the results and row counts, return the report.

    ``row_counts`` saves counting tables the caller already counted. The caller publishes only when
    ``report.blocking_failures`` is empty.
    """
    suite = checks or load_checks()
    known = dict(row_counts or {})
    counts = {
        name: known[name] if name in known else _value(tables[name].count())
        for name in suite.tables
        if name in tables
    }
    history = row_count_history(metadata, runs=_history_depth(suite))
    scope = CheckScope(tables=tables, row_counts=counts, history=history, now=now or datetime.now(UTC))
    report = QualityReport(run_id, evaluate(suite, run_id, scope))
    record_run(metadata, run_id, report.results, counts, blocked=bool(report.blocking_failures))
    return report


def _history_depth(suite: CheckSuite) -> int:
    depths = [c.runs for checks in suite.tables.values() for c in checks if isinstance(c, RowCount)]
    return max(depths, default=1)
