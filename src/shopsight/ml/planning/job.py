"""The planning job: read the published warehouse once, forecast, size stock, price, store the plan.

Everything the API serves about demand, stock and prices comes from the stored plan, so a request reads a
few small Parquet tables instead of fitting models. ``shopsight plan run`` (and ``quickstart``) call
:func:`run_plan`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd  # type: ignore[import-untyped]
import pyarrow as pa

from shopsight.ml.planning.demand import DemandForecasts, DemandSetup, forecast_demand
from shopsight.ml.planning.inputs import PlanInputs, read_inputs
from shopsight.ml.planning.prices import price_suggestions
from shopsight.ml.planning.stock import StockSetup, plan_day, plan_stock
from shopsight.ml.planning.store import PlanInfo, PlanStore, new_run_id
from shopsight.ml.pricing.models import Guardrails
from shopsight.warehouse.reader import WarehouseReader

STEPS = (
    "reading the warehouse",
    "forecasting demand",
    "sizing stock",
    "suggesting prices",
    "saving the plan",
)
ACTUAL_DAYS = 120  # history the forecast chart shows before the forecast


@dataclass(frozen=True)
class PlanOptions:
    """Everything a plan run can be told."""

    demand: DemandSetup = field(default_factory=DemandSetup)
    stock: StockSetup = field(default_factory=StockSetup)
    guardrails: Guardrails = field(default_factory=Guardrails)
    actual_days: int = ACTUAL_DAYS


def run_plan(
    reader: WarehouseReader, store: PlanStore, options: PlanOptions | None = None,
    on_step: Callable[[str], None] | None = None,
) -> PlanInfo:  # fmt: skip
    """Compute and store a plan from the current warehouse version; ``on_step`` hears each finished step."""
    options = options or PlanOptions()
    started = time.perf_counter()
    done = on_step or (lambda _step: None)
    with reader.current() as (version, tables):
        inputs = read_inputs(version.version, tables)
    done(STEPS[0])
    demand = forecast_demand(inputs.demand, options.demand)
    done(STEPS[1])
    series = inputs.demand[["unique_id", "product_id", "location_id"]].drop_duplicates("unique_id")
    day = plan_day(inputs.as_of)
    stock = plan_stock(demand, series, inputs.stock, inputs.products, options.stock, day)
    done(STEPS[2])
    pricing = price_suggestions(
        inputs.products, inputs.sales, _weekly_units(demand, series), _stock_by_product(inputs),
        options.guardrails,
    )  # fmt: skip
    done(STEPS[3])
    tables_out = {
        "series": _series_table(inputs, demand, series),
        "forecast": _forecast_table(demand, series),
        "actuals": _actuals_table(inputs, options.actual_days),
        "risk": _titled(stock.risk, inputs),
        "replenishment": _titled(stock.replenishment, inputs),
        "pricing": pricing,
    }
    info = PlanInfo(
        run_id=new_run_id(), built_at=datetime.now(UTC), warehouse_version=inputs.version,
        as_of=inputs.as_of, plan_day=day, horizon=options.demand.horizon,
        backtest_horizon=demand.backtest_horizon, windows=options.demand.windows, models=list(demand.models),
        seconds=round(time.perf_counter() - started, 2), rows={k: len(v) for k, v in tables_out.items()},
        settings=_settings(options),
    )  # fmt: skip
    store.write(info, {name: _arrow(frame) for name, frame in tables_out.items()})
    done(STEPS[4])
    return info


def _settings(options: PlanOptions) -> dict[str, float]:
    stock, rules = options.stock, options.guardrails
    return {
        "lead_days": stock.lead_days, "lead_std_days": stock.lead_std_days, "fill_rate": stock.fill_rate,
        "holding_rate": stock.holding_rate, "order_cost": stock.order_cost,
        "overstock_weeks": stock.overstock_weeks, "min_margin": rules.min_margin,
        "max_change": rules.max_change, "max_markdown": rules.max_markdown,
    }  # fmt: skip


def _weekly_units(demand: DemandForecasts, series: pd.DataFrame) -> dict[str, float]:
    """Forecast units per week and product, every location together."""
    per_series = demand.forecasts.groupby("unique_id")["mean"].mean() * 7
    products = series.set_index("unique_id")["product_id"]
    summed = per_series.groupby(products.reindex(per_series.index)).sum()
    return {str(k): float(v) for k, v in summed.items()}


def _stock_by_product(inputs: PlanInputs) -> dict[str, float]:
    summed = inputs.stock.groupby("product_id")["available"].sum()
    return {str(k): float(v) for k, v in summed.items()}


def _titled(frame: pd.DataFrame, inputs: PlanInputs) -> pd.DataFrame:
    """``frame`` with each product's title and category after its id."""
    names = inputs.products[["product_id", "title", "category"]]
    joined = frame.merge(names, on="product_id", how="left")
    first = ["product_id", "title", "category"]
    return joined[first + [c for c in frame.columns if c not in first]]


def _series_table(inputs: PlanInputs, demand: DemandForecasts, series: pd.DataFrame) -> pd.DataFrame:
    history = inputs.demand.groupby("unique_id").agg(
        history_units=("y", "sum"), last_sale=("ds", lambda d: d[inputs.demand.loc[d.index, "y"] > 0].max())
    )
    future = demand.forecasts.groupby("unique_id")["mean"].sum().rename("forecast_units")
    chosen = demand.chosen.drop(columns="unique_id")
    frame = series.set_index("unique_id").join([history, future, chosen]).reset_index(drop=True)
    frame["last_sale"] = pd.to_datetime(frame["last_sale"]).dt.date
    return _titled(frame, inputs)


def _forecast_table(demand: DemandForecasts, series: pd.DataFrame) -> pd.DataFrame:
    frame = demand.forecasts.merge(series, on="unique_id", how="left")
    frame["ds"] = pd.to_datetime(frame["ds"]).dt.date
    return frame[["product_id", "location_id", "ds", "mean", "lo80", "hi80", "lo95", "hi95"]]


def _actuals_table(inputs: PlanInputs, days: int) -> pd.DataFrame:
    first = pd.Timestamp(inputs.as_of - timedelta(days=days - 1))
    recent = inputs.demand[inputs.demand["ds"] >= first]
    frame = recent[["product_id", "location_id", "ds", "y"]].rename(columns={"y": "units"})
    return frame.assign(ds=pd.to_datetime(frame["ds"]).dt.date)


def _arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
