"""Forecast accuracy as the M4 and M5 competitions define it, on numpy arrays of one series' window.

MASE and RMSSE divide by the in-sample error of the seasonal naive forecast on the training part
(M4: ``mean(|y_t - y_{t-m}|)``); sMAPE is in percent, ``200 |y - f| / (|y| + |f|)``, and counts 0 when
both are zero (intermittent sales). WAPE, bias and coverage are pooled over every point of a dataset.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]


def seasonal_scale(train: Floats, season_length: int, *, power: int = 1) -> float:
    """Mean ``|y_t - y_{t-m}|**power`` over the training part; NaN when too short or constant."""
    if len(train) <= season_length:
        return float("nan")
    scale = float(np.mean(np.abs(train[season_length:] - train[:-season_length]) ** power))
    return scale if scale > 0 else float("nan")


def mase(actual: Floats, forecast: Floats, scale: float) -> float:
    """Mean absolute error over the in-sample seasonal naive MAE (``scale``)."""
    return float(np.mean(np.abs(actual - forecast)) / scale)


def rmsse(actual: Floats, forecast: Floats, squared_scale: float) -> float:
    """Root mean squared error over the root of the in-sample seasonal naive MSE (M5)."""
    return float(np.sqrt(np.mean((actual - forecast) ** 2) / squared_scale))


def smape(actual: Floats, forecast: Floats) -> float:
    """Symmetric MAPE in percent (M4); a point where both are zero counts as a perfect forecast."""
    denominator = np.abs(actual) + np.abs(forecast)
    terms = np.divide(
        200.0 * np.abs(actual - forecast), denominator, out=np.zeros_like(denominator), where=denominator > 0
    )
    return float(np.mean(terms))


def wape(actual: Floats, forecast: Floats) -> float:
    """Weighted absolute percentage error: total absolute error over total absolute actuals."""
    return float(np.sum(np.abs(actual - forecast)) / np.sum(np.abs(actual)))


def bias(actual: Floats, forecast: Floats) -> float:
    """Total forecast minus total actual, relative to the total actual (positive: over-forecast)."""
    return float(np.sum(forecast - actual) / np.sum(np.abs(actual)))


def pinball(actual: Floats, quantile_forecast: Floats, quantile: float) -> float:
    """Mean pinball (quantile) loss of a forecast of the ``quantile``-th quantile."""
    error = actual - quantile_forecast
    return float(np.mean(np.maximum(quantile * error, (quantile - 1.0) * error)))


def interval_pinball(actual: Floats, low: Floats, high: Floats, level: float = 80.0) -> float:
    """Mean pinball loss of an interval's two bounds, read as the ``(1 -/+ level) / 2`` quantiles."""
    tail = (100.0 - level) / 200.0
    return (pinball(actual, low, tail) + pinball(actual, high, 1.0 - tail)) / 2.0


def coverage(actual: Floats, low: Floats, high: Floats) -> float:
    """Share of actuals inside ``[low, high]``."""
    return float(np.mean((actual >= low) & (actual <= high)))
