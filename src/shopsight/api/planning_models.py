"""What the planning routes answer: the plan they come from, demand forecasts, stock risk, replenishment
and price suggestions. Field names match the stored plan's columns, so a sort names either."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field


class PlanSummary(BaseModel):
    """The plan run an answer was read from."""

    run_id: str
    built_at: datetime
    warehouse_version: str
    as_of: date = Field(description="Last day of data the plan saw.")
    plan_day: date = Field(description="First forecast day; replenishment orders are placed on it.")
    horizon: int = Field(description="Days forecast.")
    models: list[str] = Field(description="Candidate models the backtest chose from per series.")


class ForecastSeries(BaseModel):
    """One product x location series: the model the backtest chose and its demand behind and ahead."""

    product_id: str
    title: str | None
    category: str | None
    location_id: str
    model: str
    history_units: float
    last_sale: date | None
    forecast_units: float = Field(description="Expected units over the horizon.")
    backtest_rmse: float | None = Field(description="Daily RMSE of the chosen model in the backtest.")
    baseline_rmse: float | None = Field(description="Daily RMSE of seasonal naive in the same backtest.")
    backtest_sales_days: int = Field(description="Days with sales in the backtest windows.")


class ActualPoint(BaseModel):
    """Units sold on one day."""

    ds: date
    units: float


class ForecastPoint(BaseModel):
    """Expected units on one day with its 80% and 95% prediction intervals."""

    ds: date
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


class ProductForecast(BaseModel):
    """A product's recent daily actuals and its forecast, at one location or all of them together."""

    plan: PlanSummary
    product_id: str
    title: str | None
    location_id: str | None = Field(description="Null: every location together.")
    locations: list[str] = Field(description="Locations this product has a forecast at.")
    models: dict[str, str] = Field(description="Chosen model per location.")
    actuals: list[ActualPoint]
    forecast: list[ForecastPoint]
    note: str


class StockRisk(BaseModel):
    """Stock policy and risk of one product x location."""

    product_id: str
    title: str | None
    category: str | None
    location_id: str
    available: float
    inventory_position: float
    weekly_demand: float
    forecast_units: float
    safety_stock: float
    reorder_point: float
    order_up_to: float
    eoq: float
    days_of_cover: float | None = Field(description="Null when nothing is held or nothing sells.")
    stockout_risk: float = Field(description="P(demand over the lead time > inventory position).")
    overstock: bool
    excess_units: float
    status: str = Field(description="reorder, overstock or ok.")


class ReplenishmentLine(BaseModel):
    """What to move where, when and how much, and why."""

    product_id: str
    title: str | None
    category: str | None
    location_id: str
    kind: str = Field(description="transfer (from another location) or purchase (from the supplier).")
    source: str
    quantity: float
    order_by: date
    arrives: date
    reason: str
    inventory_position: float
    reorder_point: float
    order_up_to: float


class PriceSuggestion(BaseModel):
    """A price with its expected weekly impact, its drivers and the guardrails that limited it."""

    product_id: str
    title: str | None
    category: str | None
    currency: str | None
    action: str = Field(description="raise, lower, hold or markdown.")
    current_price: float
    recommended_price: float
    change: float
    elasticity: float
    elasticity_low: float
    elasticity_high: float
    elasticity_source: str = Field(description="product, category or prior.")
    units_now: float = Field(description="Expected units a week at the current price.")
    units: float
    revenue_now: float
    revenue: float
    margin_now: float
    margin: float
    margin_change: float
    margin_low: float = Field(description="Expected margin at the elasticity's 95% bounds (low end).")
    margin_high: float
    binding: list[str]
    drivers: list[str]


ItemT = TypeVar("ItemT", bound=BaseModel)


class PlanPage(BaseModel, Generic[ItemT]):
    """One page of a plan table and how many rows match in all."""

    plan: PlanSummary
    page: int
    page_size: int
    total: int
    items: list[ItemT]


class ForecastSeriesPage(PlanPage[ForecastSeries]):
    """Forecast series."""


class StockRiskPage(PlanPage[StockRisk]):
    """Stock risk rows."""


class ReplenishmentPage(PlanPage[ReplenishmentLine]):
    """Replenishment lines."""


class PriceSuggestionPage(PlanPage[PriceSuggestion]):
    """Price suggestions."""
