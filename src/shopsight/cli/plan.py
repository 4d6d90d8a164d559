"""``shopsight plan run``: demand forecasts, stock policies, replenishment and price suggestions from the
published warehouse, stored for the API and the dashboard's forecast, inventory and pricing pages."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopsight.cli.common import console, err_console, fail, platform_for
from shopsight.config import Settings
from shopsight.engines import open_warehouse_engine
from shopsight.errors import ShopSightError
from shopsight.ml.planning.names import CANDIDATES
from shopsight.ml.pricing.models import Guardrails

if TYPE_CHECKING:  # pandas, pyarrow and ibis load only when a plan runs, not for --help
    from shopsight.ml.planning.job import PlanOptions
    from shopsight.ml.planning.store import PlanInfo

plan_app = typer.Typer(
    help="Planning: demand forecasts with intervals, stock policies, replenishment, price suggestions.",
    no_args_is_help=True,
)


class PlanFormat(StrEnum):
    """How ``plan run`` prints."""

    table = "table"
    json = "json"


def plan_warehouse(
    settings: Settings, options: PlanOptions | None = None, on_step: Callable[[str], None] | None = None
) -> PlanInfo:
    """Run the planning job on the current warehouse version of ``settings`` and store its plan."""
    from shopsight.ml.planning.job import run_plan
    from shopsight.ml.planning.store import PlanStore, plans_dir
    from shopsight.warehouse.reader import WarehouseReader
    from shopsight.warehouse.store import WarehouseStore

    reader = WarehouseReader(WarehouseStore(settings.warehouse_dir), lambda: open_warehouse_engine(settings))
    try:
        return run_plan(reader, PlanStore(plans_dir(settings)), options, on_step)
    finally:
        reader.close()


def plan_with_progress(settings: Settings, options: PlanOptions | None = None) -> PlanInfo:
    """:func:`plan_warehouse` behind a progress bar (on stderr)."""
    from shopsight.ml.planning.job import STEPS

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("planning", total=len(STEPS))

        def finished(step: str) -> None:
            progress.update(task, advance=1, description=f"planning: {step} done")

        return plan_warehouse(settings, options, finished)


def summary_table(info: PlanInfo) -> Table:
    """What the run produced."""
    table = Table("plan", "value", title=f"plan {info.run_id} (warehouse {info.warehouse_version})")
    rows = {
        "data up to": info.as_of.isoformat(),
        "forecast": f"{info.horizon} days from {info.plan_day.isoformat()}",
        "backtest": f"{info.windows} window(s) of {info.backtest_horizon} days",
        "models": ", ".join(info.models),
        **{f"{name} rows": f"{count:,}" for name, count in info.rows.items()},
        "seconds": f"{info.seconds:.1f}",
    }
    for name, value in rows.items():
        table.add_row(name, value)
    return table


def _models(models: str | None) -> tuple[str, ...]:
    return tuple(m.strip() for m in models.split(",") if m.strip()) if models else CANDIDATES


@plan_app.command("run")
def run_command(
    ctx: typer.Context,
    horizon: Annotated[int, typer.Option(min=7, max=180, help="Days to forecast.")] = 28,
    windows: Annotated[int, typer.Option(min=1, max=6, help="Backtest windows the model choice uses.")] = 2,
    models: Annotated[
        str | None, typer.Option(help=f"Comma-separated candidates (default {','.join(CANDIDATES)}).")
    ] = None,
    lead_days: Annotated[float, typer.Option(min=0.5, help="Mean supplier lead time in days.")] = 14.0,
    lead_std_days: Annotated[float, typer.Option(min=0, help="Its standard deviation.")] = 4.0,
    fill_rate: Annotated[float, typer.Option(min=0.5, max=0.999, help="Target fill rate.")] = 0.95,
    order_cost: Annotated[float, typer.Option(min=0, help="Cost of one purchase order.")] = 20.0,
    holding_rate: Annotated[float, typer.Option(min=0.001, help="Yearly holding cost / unit cost.")] = 0.25,
    min_margin: Annotated[float, typer.Option(min=0, max=0.99, help="Smallest (price-cost)/price.")] = 0.15,
    max_change: Annotated[float, typer.Option(min=0.001, max=1, help="Largest price change.")] = 0.10,
    output: Annotated[PlanFormat, typer.Option("--format", help="table or json.")] = PlanFormat.table,
) -> None:
    """Forecast daily demand per product x location (model chosen per series by backtest, 80%/95%
    intervals), size stock (safety stock, reorder point, order-up-to, EOQ, risk), plan replenishment
    (transfers, then purchases) and suggest prices; store the plan the API and dashboard serve."""
    from shopsight.ml.planning.demand import DemandSetup, candidate_names
    from shopsight.ml.planning.job import PlanOptions
    from shopsight.ml.planning.stock import StockSetup

    try:  # a wrong model name is refused before the warehouse is read
        candidates = tuple(candidate_names(_models(models)))
    except ShopSightError as error:
        fail(str(error))
    options = PlanOptions(
        demand=DemandSetup(horizon=horizon, windows=windows, models=candidates),
        stock=StockSetup(lead_days=lead_days, lead_std_days=lead_std_days, fill_rate=fill_rate,
                         order_cost=order_cost, holding_rate=holding_rate),
        guardrails=Guardrails(min_margin=min_margin, max_change=max_change),
    )  # fmt: skip
    with platform_for(ctx) as platform:
        info = plan_with_progress(platform.settings, options)
    if output is PlanFormat.json:
        typer.echo(info.model_dump_json(indent=2))
    else:
        console.print(summary_table(info))


class EvaluationDataset(StrEnum):
    """Real demand ``plan evaluate`` can replay."""

    online_retail = "online-retail"


@plan_app.command("evaluate")
def evaluate_command(
    dataset: Annotated[EvaluationDataset, typer.Option(help="Real demand to forecast and score.")],
    skus: Annotated[
        int, typer.Option(min=10, max=4000, help="SKUs with the most units before the first cutoff.")
    ] = 600,
    locations: Annotated[
        int, typer.Option(min=2, max=5, help="2: UK and export; 5: UK, Ireland, Germany, France, other.")
    ] = 2,
    cutoffs: Annotated[
        int, typer.Option(min=1, max=8, help="Rolling forecast origins, one horizon apart.")
    ] = 4,
    horizon: Annotated[int, typer.Option(min=7, max=56, help="Days forecast from each cutoff.")] = 28,
    models: Annotated[
        str | None, typer.Option(help=f"Comma-separated candidates (default {','.join(CANDIDATES)}).")
    ] = None,
    output: Annotated[PlanFormat, typer.Option("--format", help="table or json.")] = PlanFormat.table,
) -> None:
    """Score the plan's daily forecasts on real demand, per SKU x location and for every location of a
    product together (as the API and dashboard add them up): 80% / 95% interval coverage and interval
    score, and RMSE, MAE, WAPE and bias of the forecast."""
    from shopsight.ml.forecast.datasets import ForecastDataError
    from shopsight.ml.planning.demand import candidate_names
    from shopsight.ml.planning.evaluate import EvaluationSetup, evaluate_plan
    from shopsight.ml.recommend.datasets import datasets_dir

    if locations not in (2, 5):
        fail("--locations is 2 (UK, export) or 5 (UK, Ireland, Germany, France, other)")
    try:  # a wrong model name is refused before the data is read
        candidates = tuple(candidate_names(_models(models)))
    except ShopSightError as error:
        fail(str(error))
    setup = EvaluationSetup(
        skus=skus, locations=locations, cutoffs=cutoffs, horizon=horizon, models=candidates
    )  # fmt: skip
    try:
        with console.status(f"forecasting {skus} SKUs x {locations} locations from {cutoffs} cutoffs"):
            scores = evaluate_plan(datasets_dir(), setup)
    except ForecastDataError as error:
        fail(str(error))
    if output is PlanFormat.json:
        typer.echo(orjson.dumps([score.model_dump() for score in scores], option=orjson.OPT_INDENT_2))
        return
    title = f"on {dataset.value}, {cutoffs} x {horizon} days after each cutoff"
    intervals = {
        "scope": "scope", "series": "series", "points": "days", "coverage80": "cov80",
        "coverage95": "cov95", "interval_score80": "score80", "interval_score95": "score95",
    }  # fmt: skip
    console.print(_score_table(f"Plan intervals {title}", intervals, scores))
    console.print("cov: share of days inside the interval (goal 0.80 / 0.95); score: lower is better")
    point = {"scope": "scope", "rmse": "rmse", "mae": "mae", "wape": "wape", "bias": "bias"}
    console.print(_score_table(f"Plan forecasts {title}", point, scores))


def _score_table(title: str, headers: dict[str, str], scores: list[Any]) -> Table:
    table = Table(title=title)
    for key, header in headers.items():
        table.add_column(header, justify="left" if key == "scope" else "right", no_wrap=True)
    for score in scores:
        table.add_row(*(str(getattr(score, key)) for key in headers))
    return table


def register(app: typer.Typer) -> None:
    """Add the ``plan`` command group."""
    app.add_typer(plan_app, name="plan")
