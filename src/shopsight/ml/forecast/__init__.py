"""Demand forecasting: shipped datasets, statistical and LightGBM models, rolling-origin backtests."""
