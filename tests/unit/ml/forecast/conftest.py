"""Small synthetic daily demand: weekly pattern, trend and noise, a few SKUs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

WEEK = np.array([5.0, 6.0, 7.0, 8.0, 12.0, 15.0, 3.0])


def daily_demand(skus: int = 3, days: int = 140, seed: int = 3) -> Any:
    """``unique_id, ds, y``: each SKU a scaled weekly pattern plus Poisson noise."""
    rng = np.random.default_rng(seed)
    frames = []
    for sku in range(skus):
        level = np.tile(WEEK, days // 7 + 1)[:days] * (1 + sku)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"sku{sku}",
                    "ds": pd.date_range("2024-01-01", periods=days, freq="D"),
                    "y": rng.poisson(level).astype(float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def demand() -> Any:
    """Three SKUs over 140 days."""
    return daily_demand()
