"""Forecast metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shopsight.ml.forecast import metrics

ACTUAL = np.array([10.0, 0.0, 5.0, 5.0])
FORECAST = np.array([8.0, 1.0, 5.0, 9.0])  # errors -2, 1, 0, 4


def test_seasonal_scale_is_mean_absolute_seasonal_difference() -> None:
    train = np.array([1.0, 2.0, 4.0, 3.0, 7.0])  # lag-2 differences: 3, 1, 3
    assert metrics.seasonal_scale(train, 2) == pytest.approx(7 / 3)
    assert metrics.seasonal_scale(train, 2, power=2) == pytest.approx((9 + 1 + 9) / 3)


def test_seasonal_scale_is_undefined_when_too_short_or_constant() -> None:
    assert math.isnan(metrics.seasonal_scale(np.array([1.0, 2.0]), 2))
    assert math.isnan(metrics.seasonal_scale(np.array([3.0, 3.0, 3.0]), 1))


def test_mase_and_rmsse() -> None:
    # MAE = 7/4 = 1.75; MSE = (4 + 1 + 0 + 16)/4 = 5.25
    assert metrics.mase(ACTUAL, FORECAST, scale=0.5) == pytest.approx(3.5)
    assert metrics.rmsse(ACTUAL, FORECAST, squared_scale=5.25 / 4) == pytest.approx(2.0)


def test_smape_in_percent_with_zero_over_zero_as_perfect() -> None:
    # 200*2/18, 200*1/1, 0, 200*4/14 over 4 points
    expected = (400 / 18 + 200 + 0 + 800 / 14) / 4
    assert metrics.smape(ACTUAL, FORECAST) == pytest.approx(expected)
    assert metrics.smape(np.zeros(3), np.zeros(3)) == 0.0


def test_wape_and_bias() -> None:
    assert metrics.wape(ACTUAL, FORECAST) == pytest.approx(7 / 20)
    assert metrics.bias(ACTUAL, FORECAST) == pytest.approx(3 / 20)


def test_pinball_and_interval_pinball() -> None:
    actual = np.array([10.0, 10.0])
    # q=0.9: under-forecast by 2 costs 0.9*2, over-forecast by 2 costs 0.1*2
    assert metrics.pinball(actual, np.array([8.0, 12.0]), 0.9) == pytest.approx((1.8 + 0.2) / 2)
    low, high = np.array([9.0, 11.0]), np.array([12.0, 12.0])
    # low (q=0.1): errors 1 and -1 -> 0.1 and 0.9; high (q=0.9): errors -2, -2 -> 0.2 each
    assert metrics.interval_pinball(actual, low, high, 80.0) == pytest.approx(((0.1 + 0.9) / 2 + 0.2) / 2)


def test_coverage_counts_bounds_as_inside() -> None:
    actual = np.array([1.0, 2.0, 3.0, 4.0])
    low, high = np.array([1.0, 0.0, 3.5, 0.0]), np.array([2.0, 1.5, 4.0, 4.0])
    assert metrics.coverage(actual, low, high) == pytest.approx(0.5)
