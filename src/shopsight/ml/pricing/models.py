"""The shapes pricing answers in: elasticities, guardrails, a product's state and the recommendations."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ElasticitySource(StrEnum):
    """Where an elasticity comes from: the product's own price history, or its category's."""

    product = "product"
    category = "category"
    prior = "prior"  # no price variation to learn from: an assumed typical elasticity (see planning)


class Elasticity(BaseModel):
    """Price elasticity of demand (% change in units per 1% change in price) with its uncertainty."""

    model_config = ConfigDict(frozen=True)

    product_id: str
    category: str | None = None
    elasticity: float
    std_error: float = Field(ge=0)
    ci_low: float  # 95% confidence interval
    ci_high: float
    observations: int = Field(ge=0)
    price_points: int = Field(ge=0)
    source: ElasticitySource

    @property
    def significant(self) -> bool:
        """True when the 95% interval excludes zero: the price effect is distinguishable from noise."""
        return self.ci_high < 0 or self.ci_low > 0


class Guardrails(BaseModel):
    """What a price recommendation may never do."""

    model_config = ConfigDict(frozen=True)

    min_margin: float = Field(0.15, ge=0, lt=1, description="(price - cost) / price at least this")
    max_change: float = Field(0.10, gt=0, le=1, description="Largest relative change per period")
    competitor_band: float = Field(0.05, ge=0, description="Stay within this share of a competitor price")
    max_markdown: float = Field(0.50, gt=0, lt=1, description="Deepest markdown to clear overstock")
    overstock_periods: float = Field(12, gt=0, description="Cover beyond this many periods is overstock")
    clearance_periods: float = Field(8, gt=0, description="Periods a markdown should clear the stock in")


class ProductState(BaseModel):
    """A product as pricing sees it now: price, cost, demand at that price, stock and the market."""

    model_config = ConfigDict(frozen=True)

    product_id: str
    current_price: float = Field(gt=0)
    unit_cost: float = Field(ge=0)
    base_units: float = Field(ge=0, description="Expected units per period at the current price")
    stock: float | None = Field(None, ge=0)
    competitor_price: float | None = Field(None, gt=0)
    floor: float | None = Field(None, gt=0)
    ceiling: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _floor_below_ceiling(self) -> ProductState:
        if self.floor is not None and self.ceiling is not None and self.floor > self.ceiling:
            raise ValueError(f"floor {self.floor} is above ceiling {self.ceiling}")
        return self


class PriceAction(StrEnum):
    """What to do with a product's price."""

    raise_price = "raise"
    lower_price = "lower"
    hold = "hold"
    markdown = "markdown"


class PriceRecommendation(BaseModel):
    """A price with its expected impact and the reasons (drivers) behind it."""

    product_id: str
    action: PriceAction
    current_price: float
    recommended_price: float
    change: float  # relative
    elasticity: float
    elasticity_ci: tuple[float, float]
    expected_units: float
    expected_units_now: float
    expected_margin: float  # per period
    expected_margin_now: float
    margin_range: tuple[float, float]  # expected margin at the elasticity's CI bounds
    binding: list[str]  # guardrails that limited the price
    drivers: list[str]


class FlashSaleCandidate(BaseModel):
    """A product whose demand just spiked well above its recent normal."""

    product_id: str
    period: str
    units: float
    baseline_units: float
    spike_ratio: float
    z_score: float
    drivers: list[str]
