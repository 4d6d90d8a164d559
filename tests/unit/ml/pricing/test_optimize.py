"""Price recommendations maximize expected margin and never break a guardrail; markdowns and spikes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shopsight.ml.pricing.models import Elasticity, ElasticitySource, Guardrails, PriceAction, ProductState
from shopsight.ml.pricing.optimize import (
    feasible_interval,
    flash_sale_candidates,
    in_cents,
    margin_at,
    recommend_price,
    units_at,
)


def fit(value: float, error: float = 0.1) -> Elasticity:
    return Elasticity(product_id="p", elasticity=value, std_error=error, ci_low=value - 1.96 * error,
                      ci_high=value + 1.96 * error, observations=52, price_points=6,
                      source=ElasticitySource.product)  # fmt: skip


def state(**changes: float | None) -> ProductState:
    values: dict[str, float | None] = {"current_price": 20.0, "unit_cost": 10.0, "base_units": 100.0}
    return ProductState(product_id="p", **{**values, **changes})  # type: ignore[arg-type]


def test_the_unconstrained_optimum_is_the_analytic_one() -> None:
    # e = -3: best price = cost * e / (1 + e) = 15, within +-30% of 20
    answer = recommend_price(state(), fit(-3.0), Guardrails(max_change=0.3, min_margin=0.1))
    assert answer.recommended_price == pytest.approx(15.0, abs=0.01)
    assert answer.action is PriceAction.lower_price and answer.binding == []
    assert answer.expected_margin > answer.expected_margin_now


@settings(max_examples=200, deadline=None)
@given(
    elasticity=st.floats(-4.0, -0.2),
    price=st.floats(5.0, 200.0),
    cost_share=st.floats(0.1, 0.95),
    competitor=st.one_of(st.none(), st.floats(5.0, 200.0)),
    max_change=st.floats(0.02, 0.5),
)
# Found by CI: 5.00 cut by at most 4.5% is 4.775, which rounded to the cent (4.77) broke the guardrail.
@example(elasticity=-3.0, price=5.0, cost_share=0.5, competitor=None, max_change=0.045)
def test_no_recommendation_breaks_a_guardrail_and_none_leaves_margin_on_the_table(
    elasticity: float, price: float, cost_share: float, competitor: float | None, max_change: float
) -> None:
    product = state(current_price=price, unit_cost=price * cost_share, competitor_price=competitor)
    rules = Guardrails(max_change=max_change, min_margin=0.1, competitor_band=0.05)
    answer = recommend_price(product, fit(elasticity), rules)
    low, high, _ = feasible_interval(product, rules)
    if low > high or answer.action is PriceAction.hold:
        assert answer.recommended_price == pytest.approx(price, abs=0.005)
        return
    chosen = answer.recommended_price
    assert low - 0.005 <= chosen <= high + 0.005
    assert abs(chosen / price - 1) <= max_change + 1e-3
    assert (chosen - product.unit_cost) / chosen >= 0.1 - 1e-3
    if competitor is not None:
        assert abs(chosen / competitor - 1) <= 0.05 + 1e-3
    # brute force over the feasible interval: nothing beats the recommendation by more than rounding
    grid = np.linspace(low, high, 400)
    best = max(margin_at(product, elasticity, p) for p in grid)
    assert answer.expected_margin >= best - 0.01 * abs(best) - 0.01


def test_inelastic_demand_goes_to_the_highest_allowed_price_and_names_the_limit() -> None:
    answer = recommend_price(state(), fit(-0.5), Guardrails(max_change=0.1))
    assert answer.recommended_price == pytest.approx(22.0)
    assert answer.binding == ["max_change (high)"]
    assert any("inelastic" in d for d in answer.drivers)


def test_an_uncertain_elasticity_holds_the_price() -> None:
    answer = recommend_price(state(), fit(-0.8, error=1.0), Guardrails())
    assert answer.action is PriceAction.hold and answer.recommended_price == 20.0
    assert any("noise" in d for d in answer.drivers)


def test_overstock_gets_a_markdown_that_clears_the_stock_in_time() -> None:
    rules = Guardrails(overstock_periods=12, clearance_periods=8, max_markdown=0.5)
    product = state(stock=2_000.0)  # 20 periods of cover at 100 a period
    answer = recommend_price(product, fit(-2.0), rules)
    assert answer.action is PriceAction.markdown and answer.recommended_price < 20.0
    assert units_at(product, -2.0, answer.recommended_price) * 8 == pytest.approx(2_000.0, rel=0.01)
    deep = recommend_price(state(stock=50_000.0), fit(-2.0), rules)
    assert deep.recommended_price == pytest.approx(10.0) and deep.binding == ["max_markdown"]
    assert recommend_price(state(stock=500.0), fit(-2.0), rules).action is not PriceAction.markdown


def test_demand_spikes_are_flash_sale_candidates_and_noise_is_not() -> None:
    rng = np.random.default_rng(0)
    periods = pd.date_range("2024-01-01", periods=12, freq="W-MON")
    steady = rng.normal(50, 5, 12)
    spiking = np.append(rng.normal(50, 5, 11), 160.0)
    sales = pd.concat([
        pd.DataFrame({"product_id": "steady", "period": periods, "units": steady}),
        pd.DataFrame({"product_id": "spike", "period": periods, "units": spiking}),
    ])  # fmt: skip
    found = flash_sale_candidates(sales)
    assert [c.product_id for c in found] == ["spike"]
    assert found[0].spike_ratio > 2.5 and found[0].period == "2024-03-18" and found[0].drivers


def test_cents_stay_inside_the_guardrails() -> None:
    assert in_cents(4.775, 4.775, 5.225) == 4.78  # plain rounding gives 4.77, below the lowest allowed
    assert in_cents(5.2251, 4.775, 5.225) == 5.22
    assert in_cents(4.994, 4.5, 5.5) == 4.99
    assert in_cents(4.70, 4.7, 4.7) == 4.70  # a bound on a whole cent is allowed
    assert in_cents(4.7751, 4.7751, 4.7759) == 4.78  # no whole cent inside: the nearest one
