"""``shopsight quality``: the data-quality checks of the latest (or a given) warehouse run."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.table import Table

from shopsight.cli.common import console, fail, platform_for

if TYPE_CHECKING:  # ibis and SQLAlchemy load only when the command runs, not for --help
    from shopsight.warehouse.quality import QualityReport
    from shopsight.warehouse.quality_history import CheckResult

STATUS_STYLE = {"passed": "green", "skipped": "dim", ("failed", "warn"): "yellow", ("failed", "block"): "red"}


class QualityFormat(StrEnum):
    """How ``quality`` prints."""

    table = "table"
    json = "json"


def status_cell(result: CheckResult) -> str:
    """The status, coloured: green passed, yellow warning, red blocking, dim skipped."""
    key = (result.status, result.severity) if result.status == "failed" else result.status
    return f"[{STATUS_STYLE[key]}]{result.status}[/]"


def checks_table(results: list[CheckResult], title: str) -> Table:
    """A rich table of check results."""
    table = Table("table", "check", "severity", "status", "observed", "message", title=title)
    for r in results:
        observed = "-" if r.observed is None else f"{r.observed:,.6g}"
        message = f"{r.message} (expected {r.expectation})" if r.status == "failed" else r.message
        table.add_row(r.table, r.check, r.severity, status_cell(r), observed, message)
    return table


def _history_table(reports: list[QualityReport]) -> Table:
    table = Table("run", "checked at", "passed", "warnings", "blocking", "skipped", title="quality history")
    for report in reports:
        counts = _counts(report)
        blocking = f"[red]{counts['blocking']}[/]" if counts["blocking"] else "0"
        checked = report.results[0].checked_at.isoformat(timespec="seconds") if report.results else "-"
        table.add_row(report.run_id, checked, str(counts["passed"]), str(counts["warnings"]), blocking,
                      str(counts["skipped"]))  # fmt: skip
    return table


def _counts(report: QualityReport) -> dict[str, int]:
    return {
        "passed": sum(r.status == "passed" for r in report.results),
        "warnings": len(report.warnings),
        "blocking": len(report.blocking_failures),
        "skipped": sum(r.status == "skipped" for r in report.results),
    }


def _as_json(reports: list[QualityReport], with_checks: bool) -> bytes:
    runs = [
        {"run_id": report.run_id, **_counts(report)}
        | ({"checks": [r.to_json() for r in report.results]} if with_checks else {})
        for report in reports
    ]
    return orjson.dumps(runs[0] if with_checks else runs, option=orjson.OPT_INDENT_2)


def quality_command(
    ctx: typer.Context,
    run: Annotated[str | None, typer.Option("--run", help="Run id (default: the latest run).")] = None,
    output: Annotated[QualityFormat, typer.Option("--format", help="table or json.")] = QualityFormat.table,
    history: Annotated[
        int, typer.Option("--history", min=0, help="Instead of checks, a summary of the last N runs.")
    ] = 0,
) -> None:
    """Check results of a warehouse run; exit 1 when that run failed a blocking check."""
    from shopsight.warehouse.quality import QualityReport
    from shopsight.warehouse.quality_history import recent_runs, run_results

    with platform_for(ctx) as platform:
        run_ids = [run] if run and not history else recent_runs(platform.metadata, history or 1)
        reports = [QualityReport(run_id, run_results(platform.metadata, run_id)) for run_id in run_ids]
    if not reports or not reports[0].results:
        fail(f"no quality results for run {run}" if run else "no quality results yet: run the pipeline first")
    if output is QualityFormat.json:
        typer.echo(_as_json(reports, with_checks=not history).decode())
    elif history:
        console.print(_history_table(reports))
    else:
        report = reports[0]
        console.print(checks_table(report.results, f"quality of run {report.run_id}"))
        console.print(report.summary())
    if not history and reports[0].blocking_failures:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``quality`` command."""
    app.command("quality")(quality_command)
