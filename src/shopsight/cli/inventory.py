"""``shopsight inventory``: replay held-out weeks of real demand against the stock policy."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopsight.cli.common import console, fail
from shopsight.errors import ShopSightError
from shopsight.ml.inventory.names import HeldOut

if TYPE_CHECKING:  # pandas and numpy load only when the simulation runs, not for --help
    from shopsight.ml.inventory.simulate import SimulationResult

inventory_app = typer.Typer(
    help="Inventory optimization: stock policies from forecast distributions, simulated on real demand.",
    no_args_is_help=True,
)


class InventoryDataset(StrEnum):
    """Shipped real demand to simulate on."""

    online_retail = "online-retail"


class InventoryFormat(StrEnum):
    """How ``inventory simulate`` prints."""

    table = "table"
    json = "json"


def _table(result: SimulationResult, held_out: HeldOut) -> Table:
    table = Table("measure", "value", title=f"Inventory simulation, held-out {held_out.value} weeks")
    rows = {
        "series (SKU x location)": f"{result.series}",
        "weeks replayed": f"{result.weeks}",
        "target fill rate": f"{result.target_fill_rate:.1%}",
        "achieved fill rate": f"{result.achieved_fill_rate:.1%}",
        "gap (points)": f"{(result.achieved_fill_rate - result.target_fill_rate) * 100:+.1f}",
        "holding cost": f"{result.holding_cost:,.0f}",
        "ordering cost": f"{result.ordering_cost:,.0f} ({result.orders} orders)",
        "mean units in stock": f"{result.mean_stock:,.0f}",
    }
    for name, value in rows.items():
        table.add_row(name, value)
    return table


@inventory_app.command("simulate")
def simulate_command(
    dataset: Annotated[InventoryDataset, typer.Option("--dataset", help="Real demand to replay.")],
    held_out: Annotated[
        HeldOut, typer.Option("--held-out", help="q4 (Oct-Dec 2011) or summer.")
    ] = HeldOut.q4,
    fill_rate: Annotated[
        float, typer.Option("--fill-rate", min=0.5, max=0.999, help="Target fill rate.")
    ] = 0.95,
    lead_mean: Annotated[float, typer.Option("--lead-weeks", min=0.1, help="Mean supplier lead time.")] = 1.0,
    lead_std: Annotated[float, typer.Option("--lead-std", min=0, help="Its standard deviation.")] = 0.5,
    holding: Annotated[float, typer.Option("--holding-cost", min=0.0001, help="Per unit per week.")] = 0.05,
    ordering: Annotated[float, typer.Option("--order-cost", min=0, help="Per order.")] = 10.0,
    window: Annotated[
        int, typer.Option("--window", min=4, help="Weeks of history each re-sizing uses.")
    ] = 26,
    top: Annotated[
        int, typer.Option("--top", min=1, help="Series with the most units before the split.")
    ] = 150,
    output: Annotated[
        InventoryFormat, typer.Option("--format", help="table or json.")
    ] = InventoryFormat.table,
) -> None:
    """Re-size each SKU x location every week from its forecast distribution, replay the real held-out
    demand, and report the fill rate achieved against the target and what the stock cost."""
    from shopsight.ml.inventory.datasets import held_out_series, weekly_demand
    from shopsight.ml.inventory.policy import Costs, LeadTime
    from shopsight.ml.inventory.simulate import simulate

    try:
        series = list(held_out_series(weekly_demand(), held_out, top))
    except ShopSightError as error:
        fail(str(error))
    lead, costs = (
        LeadTime(mean=lead_mean, std=lead_std),
        Costs(holding_per_unit=holding, ordering_per_order=ordering),
    )
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:  # fmt: skip
        task = progress.add_task(f"replaying {dataset.value}", total=len(series))
        result = simulate(
            series, lead, costs, fill_rate, window, progress=lambda _name: progress.advance(task)
        )
    if output is InventoryFormat.json:
        typer.echo(result.model_dump_json(indent=2, exclude={"per_series"}))
    else:
        console.print(_table(result, held_out))


def register(app: typer.Typer) -> None:
    """Add the ``inventory`` command group."""
    app.add_typer(inventory_app, name="inventory")
