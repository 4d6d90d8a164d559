"""``shopsight pricing``: elasticities, price recommendations with their drivers, flash-sale candidates."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from pydantic import BaseModel
from rich.table import Table

from shopsight.cli.common import console, fail, platform_for
from shopsight.engines import open_warehouse_engine
from shopsight.errors import ShopSightError
from shopsight.ml.pricing.models import Elasticity, Guardrails

if TYPE_CHECKING:  # pandas and ibis load only when a command runs, not for --help
    from shopsight.ml.pricing.service import PricingReport

pricing_app = typer.Typer(
    help="Dynamic pricing: elasticities, margin-maximizing prices under guardrails, markdowns, flash sales.",
    no_args_is_help=True,
)


class PricingFormat(StrEnum):
    """How pricing commands print."""

    table = "table"
    json = "json"


class PricingDataset(StrEnum):
    """Shipped real data to estimate elasticities on instead of the warehouse."""

    online_retail = "online-retail"


FormatOption = Annotated[PricingFormat, typer.Option("--format", help="table or json.")]
LimitOption = Annotated[int, typer.Option("--limit", min=1, help="Show at most this many rows.")]


def _json(items: list[BaseModel]) -> str:
    return orjson.dumps([i.model_dump(mode="json") for i in items], option=orjson.OPT_INDENT_2).decode()


def _report(ctx: typer.Context, rules: Guardrails) -> PricingReport:
    from shopsight.ml.pricing.service import price_warehouse
    from shopsight.warehouse.reader import WarehouseReader
    from shopsight.warehouse.store import WarehouseStore

    with platform_for(ctx) as platform:
        settings = platform.settings
        reader = WarehouseReader(
            WarehouseStore(settings.warehouse_dir), lambda: open_warehouse_engine(settings)
        )
        try:
            return price_warehouse(reader, rules)
        finally:
            reader.close()


def _elasticity_table(fits: list[Elasticity]) -> Table:
    table = Table(
        "product", "elasticity", "95% CI", "source", "periods", "prices", title="Price elasticities"
    )
    for f in fits:
        table.add_row(f.product_id, f"{f.elasticity:.2f}", f"{f.ci_low:.2f} .. {f.ci_high:.2f}",
                      f.source.value, str(f.observations), str(f.price_points))  # fmt: skip
    return table


@pricing_app.command("elasticity")
def elasticity_command(
    ctx: typer.Context,
    dataset: Annotated[
        PricingDataset | None,
        typer.Option("--dataset", help="Estimate on shipped real data instead of the published warehouse."),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", min=1, help="With --dataset: the top N products by units.")
    ] = 200,
    output: FormatOption = PricingFormat.table,
    limit: LimitOption = 50,
) -> None:
    """Price elasticity per product with its 95% interval (own history, else its category's)."""
    from shopsight.ml.pricing.elasticity import estimate_elasticities
    from shopsight.ml.pricing.sources import online_retail_sales

    try:
        fits = (
            estimate_elasticities(online_retail_sales(top=top))
            if dataset
            else _report(ctx, Guardrails()).elasticities
        )
    except ShopSightError as error:
        fail(str(error))
    if output is PricingFormat.json:
        typer.echo(_json(list(fits)))
        return
    console.print(_elasticity_table(fits[:limit]))
    significant = sum(f.significant for f in fits)
    console.print(f"{len(fits)} products, {significant} with a price effect distinguishable from noise")


@pricing_app.command("recommend")
def recommend_command(
    ctx: typer.Context,
    min_margin: Annotated[float, typer.Option(min=0, max=0.99, help="Smallest (price-cost)/price.")] = 0.15,
    max_change: Annotated[float, typer.Option(min=0.001, max=1, help="Largest change per period.")] = 0.10,
    max_markdown: Annotated[float, typer.Option(min=0.01, max=0.99, help="Deepest markdown.")] = 0.5,
    output: FormatOption = PricingFormat.table,
    limit: LimitOption = 30,
) -> None:
    """Margin-maximizing prices under the guardrails, markdowns for overstock, each with its drivers."""
    rules = Guardrails(min_margin=min_margin, max_change=max_change, max_markdown=max_markdown)
    report = _report(ctx, rules)
    if output is PricingFormat.json:
        typer.echo(_json(list(report.recommendations)))
        return
    table = Table("product", "action", "price", "new", "change", "margin/period", "drivers",
                  title=f"Price recommendations (warehouse {report.version})")  # fmt: skip
    for r in report.recommendations[:limit]:
        table.add_row(
            r.product_id, r.action.value, f"{r.current_price:.2f}", f"{r.recommended_price:.2f}",
            f"{r.change:+.1%}", f"{r.expected_margin_now:,.0f} -> {r.expected_margin:,.0f}",
            "; ".join(r.drivers),
        )  # fmt: skip
    console.print(table)


@pricing_app.command("flash-sales")
def flash_sales_command(ctx: typer.Context, output: FormatOption = PricingFormat.table) -> None:
    """Products whose demand in the latest week spiked far above their recent normal."""
    report = _report(ctx, Guardrails())
    if output is PricingFormat.json:
        typer.echo(_json(list(report.flash_sales)))
        return
    table = Table("product", "week", "units", "normal", "ratio", "z", title="Flash-sale candidates")
    for c in report.flash_sales:
        table.add_row(c.product_id, c.period, f"{c.units:g}", f"{c.baseline_units:.1f}",
                      f"{c.spike_ratio:.1f}x", f"{c.z_score:.1f}")  # fmt: skip
    console.print(table if report.flash_sales else "no demand spikes in the latest week")


def register(app: typer.Typer) -> None:
    """Add the ``pricing`` command group."""
    app.add_typer(pricing_app, name="pricing")
