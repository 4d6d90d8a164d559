"""Names of the forecasting models, shipped datasets and metrics, with no heavy import: the CLI's
options and help text need them before (or without) pandas and the model libraries."""

from __future__ import annotations

MODEL_NAMES = (
    "naive",
    "seasonal_naive",
    "window_average",
    "auto_ets",
    "auto_arima",
    "mstl",
    "croston",
    "adida",
    "imapa",
    "tsb",
    "lightgbm",
    "lightgbm_holidays",
    "lightgbm_price",
    "xgboost",
)
# AutoARIMA is opt-in: on hourly data with a 24-period season it takes minutes per hundred series.
# lightgbm_holidays too: it is LightGBM plus the plan's public holidays, a variant to compare, not a default;
# and xgboost, a second global model (both run on Spark too: engines/spark/mlforecast.py).
# lightgbm_price needs the series' prices (online-retail SKUs): LightGBM plus the price a horizon ago
# relative to its recent median and a discount flag, features known when the forecast is made.
OPT_IN_MODELS = ("auto_arima", "lightgbm_holidays", "lightgbm_price", "xgboost")
DEFAULT_MODELS = tuple(name for name in MODEL_NAMES if name not in OPT_IN_MODELS)
AUTO = "auto"  # the per-series model choice the backtest adds to the models it runs

DATASET_NAMES = (
    "m4-hourly",
    "online-retail-sku-daily",
    "online-retail-sku-weekly",
    "online-retail-country-daily",
    "online-retail-country-weekly",
)

METRIC_NAMES = ("mase", "smape", "rmsse", "wape", "bias", "pinball", "coverage80")
