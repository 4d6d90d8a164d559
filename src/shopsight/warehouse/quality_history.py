"""Data-quality results and row counts kept in the metadata store, one set per warehouse run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select

from shopsight.metadata.tables import quality_results, quality_row_counts


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one table in one run (``status``: passed, failed or skipped)."""

    run_id: str
    table: str
    check: str
    kind: str
    severity: str
    status: str
    observed: float | None
    expectation: str
    message: str
    checked_at: datetime

    @property
    def passed(self) -> bool:
        """Whether the check held (a skipped check cannot fail a run)."""
        return self.status != "failed"

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {**asdict(self), "passed": self.passed, "checked_at": self.checked_at.isoformat()}


def record_run(
    engine: Engine, run_id: str, results: list[CheckResult], row_counts: dict[str, int], *, blocked: bool
) -> None:
    """Store a run's check results and its row counts (one transaction)."""
    now = datetime.now(UTC)
    counts = [
        {"run_id": run_id, "table_name": table, "rows": rows, "blocked": blocked, "recorded_at": now}
        for table, rows in row_counts.items()
    ]
    with engine.begin() as conn:
        if results:
            conn.execute(insert(quality_results), [_result_row(result) for result in results])
        if counts:
            conn.execute(insert(quality_row_counts), counts)


def _result_row(result: CheckResult) -> dict[str, Any]:
    row = asdict(result)
    row["table_name"] = row.pop("table")
    row["check_name"] = row.pop("check")
    row["passed"] = result.passed
    return row


def row_count_history(engine: Engine, runs: int) -> dict[str, list[int]]:
    """Rows per table over the last ``runs`` runs that passed their blocking checks, newest first."""
    recent = (
        select(quality_row_counts.c.run_id)
        .where(quality_row_counts.c.blocked.is_(False))
        .group_by(quality_row_counts.c.run_id)
        .order_by(func.max(quality_row_counts.c.recorded_at).desc(), quality_row_counts.c.run_id.desc())
        .limit(runs)
    )
    query = (
        select(quality_row_counts)
        .where(quality_row_counts.c.run_id.in_(recent.scalar_subquery()))
        .order_by(quality_row_counts.c.recorded_at.desc(), quality_row_counts.c.run_id.desc())
    )
    history: dict[str, list[int]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            history.setdefault(row.table_name, []).append(row.rows)
    return history


def recent_runs(engine: Engine, limit: int) -> list[str]:
    """Ids of the last ``limit`` audited runs, newest first."""
    query = (
        select(quality_results.c.run_id)
        .group_by(quality_results.c.run_id)
        .order_by(func.max(quality_results.c.checked_at).desc(), quality_results.c.run_id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def run_results(engine: Engine, run_id: str) -> list[CheckResult]:
    """Every stored check result of one run, in the order they were checked."""
    query = select(quality_results).where(quality_results.c.run_id == run_id).order_by(quality_results.c.id)
    with engine.connect() as conn:
        return [_from_row(row._mapping) for row in conn.execute(query)]


def _from_row(row: Any) -> CheckResult:
    checked_at = row["checked_at"]
    if checked_at.tzinfo is None:  # SQLite hands back naive datetimes
        checked_at = checked_at.replace(tzinfo=UTC)
    return CheckResult(
        run_id=row["run_id"], table=row["table_name"], check=row["check_name"], kind=row["kind"],
        severity=row["severity"], status=row["status"], observed=row["observed"],
        expectation=row["expectation"], message=row["message"], checked_at=checked_at,
    )  # fmt: skip
