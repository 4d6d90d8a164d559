"""``shopsight forecast``: rolling-origin backtest of every demand forecasting model against the baselines."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopsight.cli.common import console, err_console, fail
from shopsight.errors import ShopSightError
from shopsight.ml.forecast.names import AUTO, DATASET_NAMES, DEFAULT_MODELS, METRIC_NAMES, MODEL_NAMES

if TYPE_CHECKING:  # pandas and the model libraries load only when a command runs, not for --help
    from shopsight.ml.forecast.datasets import SeriesSet
    from shopsight.ml.forecast.evaluate import Evaluation

forecast_app = typer.Typer(help="Demand forecasting: backtest the models.", no_args_is_help=True)

# Lower is better for every column but coverage, which should be near 0.80, and bias, near 0.
LOWER_IS_BETTER = ("mase", "smape", "rmsse", "wape", "pinball")


class EvaluationFormat(StrEnum):
    """How ``forecast evaluate`` prints."""

    table = "table"
    markdown = "markdown"
    json = "json"


class Reconciliation(StrEnum):
    """How ``forecast evaluate --reconcile`` makes the levels' forecasts coherent (see hierarchy.py)."""

    none = "none"
    bottom_up = "bottom_up"
    min_trace = "min_trace"


class StatsEngine(StrEnum):
    """Where ``forecast evaluate --engine`` runs the statsforecast models and the xgboost global model."""

    local = "local"
    spark = "spark"


def markdown(evaluation: Evaluation) -> str:
    """The results as a GitHub markdown table, the best of each lower-is-better column in bold."""
    best = {m: min(r.metrics[m] for r in evaluation.results) for m in LOWER_IS_BETTER}
    lead = ["model", *(["level"] if evaluation.bottom_level else [])]
    header = "| " + " | ".join([*lead, *METRIC_NAMES, "seconds"]) + " |"
    lines = [header, "|---" * (len(lead) + len(METRIC_NAMES) + 1) + "|"]
    for r in evaluation.results:
        cells = [
            f"**{r.metrics[m]:.3f}**" if r.metrics[m] == best.get(m) else f"{r.metrics[m]:.3f}"
            for m in METRIC_NAMES
        ]
        names = [r.model, *([r.level or ""] if evaluation.bottom_level else [])]
        lines.append("| " + " | ".join([*names, *cells]) + f" | {r.seconds:.0f} |")
    return "\n".join([*lines, "", *(f"- {note}" for note in notes(evaluation))])


def rich_table(evaluation: Evaluation) -> Table:
    """The results as a rich table."""
    shape = f"{evaluation.series:,} series, {evaluation.windows} x {evaluation.horizon} points"
    title = f"{evaluation.dataset}: {shape}"
    levels = ["level"] if evaluation.bottom_level else []
    table = Table("model", *levels, *METRIC_NAMES, "seconds", title=title)
    for r in evaluation.results:
        names = [r.model, *([r.level or ""] if levels else [])]
        table.add_row(*names, *(f"{r.metrics[m]:.3f}" for m in METRIC_NAMES), f"{r.seconds:.0f}")
    return table


def notes(evaluation: Evaluation) -> list[str]:
    """What the table leaves out, then the verdict of ``auto`` against the goals."""
    picked = ", ".join(f"{model} {count}" for model, count in evaluation.chosen.items())
    return [*evaluation.notes, f"auto picked (series x windows): {picked}", *verdicts(evaluation)]


def verdicts(evaluation: Evaluation) -> list[str]:
    """``auto`` against seasonal naive and AutoETS on MASE, and its 80% coverage, when they ran."""
    auto, naive, ets = (evaluation.score(name) for name in (AUTO, "seasonal_naive", "auto_ets"))
    if auto is None:
        return []
    lines = [f"auto coverage80 {auto.metrics['coverage80']:.3f} (goal 0.75-0.85)"]
    if naive is not None:
        gain = 1 - auto.metrics["mase"] / naive.metrics["mase"]
        lines.append(f"auto MASE {gain:.1%} lower than seasonal naive (goal >= 10%)")
    if ets is not None:
        lines.append(f"auto MASE {auto.metrics['mase']:.3f} vs AutoETS {ets.metrics['mase']:.3f} (goal <=)")
    return lines


def _data(
    dataset: str | None, series: Path | None, columns: tuple[str | None, str | None, str | None],
    freq: str | None, horizon: int | None, windows: int | None, group_col: str | None = None,
    holidays: str | None = None,
) -> SeriesSet:  # fmt: skip
    from shopsight.ml.forecast.datasets import load, series_file
    from shopsight.ml.forecast.holidays import HolidayCalendar

    if (dataset is None) == (series is None):
        fail("give exactly one of --dataset NAME or --series CSV")
    calendar = None if holidays is None else HolidayCalendar.parse(holidays)
    if dataset is not None:
        if group_col is not None:
            fail("--group-col is for --series files; the shipped datasets have their own levels")
        shipped = load(dataset)
        return shipped if calendar is None else replace(shipped, holidays=calendar)
    id_col, time_col, target_col = columns
    if not (id_col and time_col and target_col and freq and horizon):
        fail("--series needs --id-col, --time-col, --target-col, --freq and --horizon")
    assert series is not None and id_col and time_col and target_col and freq and horizon
    return series_file(
        series, id_col=id_col, time_col=time_col, target_col=target_col, freq=freq, horizon=horizon,
        windows=windows or 1, group_col=group_col, holidays=calendar,
    )  # fmt: skip


def _progress() -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=err_console, transient=True)


def _model_list(models: str | None) -> list[str]:
    if models is None:
        return list(DEFAULT_MODELS)
    return list(MODEL_NAMES) if models == "all" else [m.strip() for m in models.split(",") if m.strip()]


@forecast_app.command("evaluate")
def evaluate_command(
    dataset: Annotated[
        str | None, typer.Option("--dataset", help=f"A shipped dataset: {', '.join(DATASET_NAMES)}.")
    ] = None,
    series: Annotated[
        Path | None,
        typer.Option(
            "--series", help="Any long-format CSV (gzip ok): one row per series and period.", exists=True
        ),
    ] = None,
    id_col: Annotated[str | None, typer.Option("--id-col", help="Series id column of the CSV.")] = None,
    time_col: Annotated[
        str | None, typer.Option("--time-col", help="Time column (dates or datetimes).")
    ] = None,
    target_col: Annotated[
        str | None, typer.Option("--target-col", help="Value to forecast, e.g. units.")
    ] = None,
    freq: Annotated[str | None, typer.Option("--freq", help="pandas frequency: H, D, W-SUN, MS ...")] = None,
    horizon: Annotated[
        int | None, typer.Option("--horizon", min=1, help="Points per test window (a dataset has its own).")
    ] = None,
    windows: Annotated[
        int | None,
        typer.Option("--windows", min=1, help="Test on the last N windows of H points (default 1)."),
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(
            "--models",
            help=f"Comma-separated models, or 'all' (adds the slow auto_arima): {', '.join(MODEL_NAMES)}.",
        ),
    ] = None,
    output: Annotated[
        EvaluationFormat, typer.Option("--format", help="table, markdown or json.")
    ] = EvaluationFormat.table,
    reconcile: Annotated[
        Reconciliation,
        typer.Option("--reconcile", help="Add the total, make forecasts coherent, score per level."),
    ] = Reconciliation.none,
    group_col: Annotated[
        str | None,
        typer.Option(
            "--group-col",
            help="With --series and --reconcile: each series' group (category, region), a level between "
            "the series and the total.",
        ),
    ] = None,
    holidays: Annotated[
        str | None,
        typer.Option(
            "--holidays",
            help="Public holidays the series follow, for lightgbm_holidays: a country code, optionally "
            "with a subdivision (GB-ENG, US, DE-BY). online-retail has its own: GB-ENG.",
        ),
    ] = None,
    engine: Annotated[
        StatsEngine,
        typer.Option(
            "--engine",
            help="Run statsforecast, LightGBM and XGBoost here or on Spark (local[2]); "
            "lightgbm_price runs here.",
        ),
    ] = StatsEngine.local,
) -> None:
    """Backtest every model on the last windows of each series; 'auto' picks on the windows before them.

    'auto' chooses per series, or one model for all when there are fewer than 50 series.
    Prints MASE, sMAPE, RMSSE, WAPE, bias, pinball loss and 80% interval coverage per model.
    """
    from shopsight.ml.forecast.evaluate import evaluate

    if group_col is not None and reconcile is Reconciliation.none:
        fail("--group-col adds a hierarchy level: give --reconcile bottom_up or min_trace with it")
    try:
        columns = (id_col, time_col, target_col)
        data = _data(dataset, series, columns, freq, horizon, windows, group_col, holidays)
        with _progress() as progress:
            evaluation = evaluate(
                data, models=_model_list(models), horizon=horizon, windows=windows, progress=progress,
                reconcile=reconcile.value, **_backends(engine),
            )  # fmt: skip
    except ShopSightError as error:
        fail(str(error))
    _print(evaluation, output)


def _backends(engine: StatsEngine) -> dict[str, Any]:
    """Where statsforecast (``stats``) and the global models (``ml``) run."""
    if engine is StatsEngine.local:
        from shopsight.ml.forecast.models import LocalGlobal, LocalStats

        return {"stats": LocalStats(), "ml": LocalGlobal()}
    from shopsight.engines.spark.forecast import SparkStats
    from shopsight.engines.spark.mlforecast import SparkGlobal
    from shopsight.engines.spark.session import spark_session

    session = spark_session()
    return {"stats": SparkStats(session), "ml": SparkGlobal(session)}


def _print(evaluation: Evaluation, output: EvaluationFormat) -> None:
    if output is EvaluationFormat.json:
        rows = [r.to_json() for r in evaluation.results]
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode())
    elif output is EvaluationFormat.markdown:
        typer.echo(markdown(evaluation))
    else:
        console.print(rich_table(evaluation))
        for note in notes(evaluation):
            console.print(f"- {note}")


def register(app: typer.Typer) -> None:
    """Add the ``forecast`` command group."""
    app.add_typer(forecast_app, name="forecast")
