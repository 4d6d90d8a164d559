"""Weekly demand per SKU x location from the shipped online-retail sales, split into history and held-out.

Locations: the United Kingdom (the shop's home market) and everywhere else, as a store would ship from a
domestic and an export warehouse. Two held-out periods: the autumn and Christmas ramp (Oct-Dec 2011, after
training to 2011-09-30, as the recommendation evaluation splits) and a steadier summer (Jun-Sep 2011).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from shopsight.ml.forecast.datasets import retail_sales
from shopsight.ml.inventory.names import HeldOut as HeldOut
from shopsight.ml.recommend.datasets import datasets_dir

FIRST_WEEK_END, LAST_WEEK_END = pd.Timestamp("2010-12-12"), pd.Timestamp("2011-12-04")


SPLITS = {
    HeldOut.q4: (pd.Timestamp("2011-09-30"), LAST_WEEK_END),
    HeldOut.summer: (pd.Timestamp("2011-05-31"), pd.Timestamp("2011-09-30")),
}


def weekly_demand(root: Path | None = None) -> pd.DataFrame:
    """Units per (sku, location) row and complete week-ending column, zero where nothing sold."""
    sales = retail_sales(root or datasets_dir())
    week = sales["day"].dt.to_period("W-SUN").dt.end_time.dt.normalize()
    sales = sales.assign(location=np.where(sales["country"] == "United Kingdom", "UK", "export"), week=week)
    sales = sales[(sales["week"] >= FIRST_WEEK_END) & (sales["week"] <= LAST_WEEK_END)]
    summed = sales.groupby(["sku", "location", "week"])["units"].sum().clip(lower=0)
    return summed.unstack("week", fill_value=0.0).astype(float)


def held_out_series(
    weekly: pd.DataFrame, held_out: HeldOut, top: int = 150
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(``sku@location``, history, held-out weeks) of the ``top`` series by units before the split."""
    split, end = SPLITS[held_out]
    history_weeks = [w for w in weekly.columns if w <= split]
    future_weeks = [w for w in weekly.columns if split < w <= end]
    chosen = weekly[history_weeks].sum(axis=1).nlargest(top).index
    for sku, location in chosen:
        row = weekly.loc[(sku, location)]
        yield f"{sku}@{location}", row[history_weeks].to_numpy(float), row[future_weeks].to_numpy(float)
