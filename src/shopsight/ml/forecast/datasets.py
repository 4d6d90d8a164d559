"""Forecasting datasets: the shipped real ones by name, or any long-format series CSV.

Every dataset is a long frame ``unique_id, ds, y`` (the Nixtla convention) plus what the backtest needs:
the frequency, the seasonal periods, the horizon and how many windows of it to test on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from shopsight.errors import ShopSightError
from shopsight.ml.forecast.holidays import HolidayCalendar
from shopsight.ml.forecast.names import DATASET_NAMES as DATASET_NAMES
from shopsight.ml.recommend.datasets import ONLINE_RETAIL_FILE, datasets_dir

M4_HOURLY_FILES = ("m4-hourly/Hourly-train.csv.gz", "m4-hourly/Hourly-test.csv.gz")
M4_HOURLY_HORIZON = 48
# Only product stock codes (five digits, maybe a letter): drops postage, fees, manual adjustments, vouchers.
PRODUCT_CODE = r"^\d{5}"
TOP_SKUS = 200
MIN_COUNTRY_SALE_DAYS = 20
# The file ends at 12:50 on 2011-12-09: that day and its week are incomplete; 2010-12-01 is a Wednesday.
RETAIL_LAST_DAY = pd.Timestamp("2011-12-08")
RETAIL_FIRST_WEEK_END = pd.Timestamp("2010-12-12")
RETAIL_LAST_WEEK_END = pd.Timestamp("2011-12-04")
RETAIL_SETUP = {"D": (14, 4, (7,)), "W-SUN": (4, 3, (1,))}  # horizon, windows, seasonal periods
# Seasonal periods by pandas frequency when a CSV does not say (hourly: day and week).
DEFAULT_SEASONS = {"H": (24, 168), "h": (24, 168), "D": (7,), "B": (5,), "M": (12,), "MS": (12,), "Q": (4,)}
# The online-retail shop is in England and shut on its bank holidays, whichever country a buyer is in.
RETAIL_HOLIDAYS = HolidayCalendar("GB", "ENG")


class ForecastDataError(ShopSightError):
    """A dataset or series file cannot be used for a backtest."""


@dataclass(frozen=True)
class SeriesSet:
    """Series to backtest: ``frame`` has ``unique_id``, ``ds`` (datetime or integer) and ``y``."""

    name: str
    frame: Any  # pandas.DataFrame
    freq: str | int
    season_lengths: tuple[int, ...]
    horizon: int
    windows: int
    notes: list[str] = field(default_factory=list)
    level: str = "series"  # what one series is (its hierarchy level's name): sku, country, ...
    prices: Any = None  # pandas.DataFrame ``unique_id, ds, price`` (every period; last known price) or None
    groups: Any = None  # pandas.Series: each unique_id's group (category, region), or None
    group_level: str = "group"  # what a group is
    holidays: HolidayCalendar | None = None  # the public holidays the series follow, if known

    @property
    def season_length(self) -> int:
        """The main (shortest) seasonal period, used by seasonal naive and the MASE scale."""
        return self.season_lengths[0]


def _require(path: Path) -> Path:
    if not path.is_file():
        raise ForecastDataError(
            f"dataset file not found: {path} (set SHOPSIGHT_DATASETS to the datasets folder)"
        )
    return path


def m4_hourly(root: Path) -> SeriesSet:
    """M4 Hourly (414 series): the official test is the 48 points after each training series.

    Train and test are joined per series so that the last window of 48 is exactly the official split;
    time is an integer step because M4 publishes no timestamps for these files.
    """
    parts = [_m4_long(_require(root / name)) for name in M4_HOURLY_FILES]
    # Steps count from 1 in both files (column V2 is step 1): test step 1 follows the last training step.
    offsets = parts[0].groupby("unique_id")["step"].max()
    test = parts[1].assign(step=parts[1]["step"] + parts[1]["unique_id"].map(offsets))
    frame = pd.concat([parts[0], test]).rename(columns={"step": "ds"})
    frame = frame.sort_values(["unique_id", "ds"], ignore_index=True)
    notes = ["official M4 split: train file, then the 48 test points of each series (one window)"]
    return SeriesSet("m4-hourly", frame, 1, (24, 168), M4_HOURLY_HORIZON, 1, notes)


def _m4_long(path: Path) -> Any:
    wide = pd.read_csv(path).rename(columns={"V1": "unique_id"})
    long = wide.melt(id_vars="unique_id", var_name="column", value_name="y").dropna(subset=["y"])
    long["step"] = long["column"].str[1:].astype(int) - 1
    return long[["unique_id", "step", "y"]].astype({"y": float})


def retail_sales(root: Path) -> Any:
    """UCI Online Retail as one row per sale line: day, stock code, country, net units, unit price.

    Cancellations stay in as negative units so that an order cancelled the same day nets to zero
    (the file's largest orders, 80,995 and 74,215 units, were cancelled at once).
    """
    raw = pd.read_csv(
        _require(root / ONLINE_RETAIL_FILE),
        usecols=["StockCode", "Quantity", "InvoiceDate", "UnitPrice", "Country"],
        dtype={"StockCode": str, "Country": str},
    )
    sales = raw[(raw["UnitPrice"] > 0) & raw["StockCode"].str.match(PRODUCT_CODE)]
    day = pd.to_datetime(sales["InvoiceDate"], format="%Y-%m-%d %H:%M:%S").dt.normalize()
    return pd.DataFrame(
        {"day": day, "sku": sales["StockCode"], "country": sales["Country"], "units": sales["Quantity"],
         "price": sales["UnitPrice"]}
    )  # fmt: skip


def online_retail(root: Path, *, level: str, freq: str) -> SeriesSet:
    """Net units per SKU (the top 200 by training units) or per country, daily or weekly."""
    horizon, windows, seasons = RETAIL_SETUP[freq]
    sales = retail_sales(root)
    key = "sku" if level == "sku" else "country"
    summed = _per_period(sales.rename(columns={key: "unique_id", "day": "ds", "units": "y"}), freq)
    periods = np.sort(summed["ds"].unique())
    first_test = pd.Timestamp(periods[-horizon * (windows + 1)])  # selection window included
    train = summed[summed["ds"] < first_test]
    if level == "sku":
        chosen = train.groupby("unique_id")["y"].sum().nlargest(TOP_SKUS).index
        note = f"top {TOP_SKUS} product SKUs by net units before {first_test.date()} (no test data used)"
    else:
        days = sales[sales["day"] < first_test].groupby("country")["day"].nunique()
        chosen = days[days >= MIN_COUNTRY_SALE_DAYS].index
        note = f"{len(chosen)} countries with sales on at least {MIN_COUNTRY_SALE_DAYS} days before the tests"
    frame = _filled(summed[summed["unique_id"].isin(chosen)], freq, last=pd.Timestamp(periods[-1]))
    name = f"online-retail-{level}-{'daily' if freq == 'D' else 'weekly'}"
    notes = [note, "net units (sales minus same-period cancellations, floored at 0); each series starts "
             "at its first sale; the incomplete first/last periods are dropped"]  # fmt: skip
    prices = _prices(sales, frame, freq) if level == "sku" else None
    return SeriesSet(
        name,
        frame,
        freq,
        seasons,
        horizon,
        windows,
        notes,
        level=key,
        prices=prices,
        holidays=RETAIL_HOLIDAYS,
    )


def _prices(sales: Any, frame: Any, freq: str) -> Any:
    """Each SKU's median unit price of its sale lines per period, carried forward over periods without
    a sale (the last price the shop charged); the first periods before any sale take the first price."""
    sold = sales[sales["units"] > 0].rename(columns={"sku": "unique_id", "day": "ds"})
    if freq != "D":
        sold = sold.assign(ds=sold["ds"].dt.to_period(freq).dt.end_time.dt.normalize())
    median = sold.groupby(["unique_id", "ds"], as_index=False)["price"].median()
    merged = frame[["unique_id", "ds"]].merge(median, on=["unique_id", "ds"], how="left")
    merged["price"] = merged.groupby("unique_id")["price"].transform(lambda p: p.ffill().bfill())
    return merged


def _per_period(daily: Any, freq: str) -> Any:
    """Units summed per series and ``freq`` period, floored at zero, complete periods only."""
    if freq != "D":
        daily = daily.assign(ds=daily["ds"].dt.to_period(freq).dt.end_time.dt.normalize())
        daily = daily[(daily["ds"] >= RETAIL_FIRST_WEEK_END) & (daily["ds"] <= RETAIL_LAST_WEEK_END)]
    else:
        daily = daily[daily["ds"] <= RETAIL_LAST_DAY]
    summed = daily.groupby(["unique_id", "ds"], as_index=False)["y"].sum()
    summed["y"] = summed["y"].clip(lower=0).astype(float)
    return summed


def _filled(summed: Any, freq: str, *, last: Any) -> Any:
    """Every period from each series' first sale to ``last``, zero where nothing sold."""
    filled = [
        group.set_index("ds").reindex(pd.date_range(group["ds"].min(), last, freq=freq), fill_value=0.0)
        .assign(unique_id=series).rename_axis("ds").reset_index()
        for series, group in summed.groupby("unique_id")
    ]  # fmt: skip
    return pd.concat(filled, ignore_index=True)[["unique_id", "ds", "y"]]


def series_file(
    path: Path, *, id_col: str, time_col: str, target_col: str, freq: str, horizon: int, windows: int = 1,
    season_lengths: tuple[int, ...] | None = None, group_col: str | None = None,
    holidays: HolidayCalendar | None = None,
) -> SeriesSet:  # fmt: skip
    """Any long-format CSV (gzip ok): one row per series and period; gaps are filled with zeros.

    ``group_col`` names each series' group (a product's category, a store's region), which reconciliation
    puts between the series and the total; a series must belong to exactly one group. ``holidays`` is the
    calendar the series follow (``lightgbm_holidays`` needs one).
    """
    raw = pd.read_csv(path)
    wanted = (id_col, time_col, target_col, *([group_col] if group_col else []))
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise ForecastDataError(
            f"{path.name} has no column {', '.join(missing)}; it has {', '.join(raw.columns)}"
        )
    frame = raw.rename(columns={id_col: "unique_id", time_col: "ds", target_col: "y"})[
        ["unique_id", "ds", "y"]
    ]
    frame = _typed(frame, path)
    seasons = season_lengths or DEFAULT_SEASONS.get(freq.split("-")[0], (1,))
    frame = _check_regular(frame, freq)
    _check_length(frame, horizon=horizon, windows=windows)
    if group_col is None:
        return SeriesSet(path.name, frame, freq, seasons, horizon, windows, holidays=holidays)
    groups = _groups(raw, id_col, group_col, path)
    return SeriesSet(
        path.name, frame, freq, seasons, horizon, windows, groups=groups, group_level=group_col,
        holidays=holidays,
    )  # fmt: skip


def _groups(raw: Any, id_col: str, group_col: str, path: Path) -> Any:
    """Each series' one group, as text; a series with none or several is an error naming it."""
    if group_col in ("total", "series"):
        raise ForecastDataError(f"the group column cannot be called {group_col!r}: that level exists already")
    pairs = raw[[id_col, group_col]].astype({id_col: str})
    if pairs[group_col].isna().any():
        series = pairs.loc[pairs[group_col].isna(), id_col].iloc[0]
        raise ForecastDataError(f"{path.name}: series {series} has a row without a {group_col}")
    counts = pairs.astype({group_col: str}).drop_duplicates().groupby(id_col)[group_col]
    several = counts.nunique()
    if (several > 1).any():
        series = several[several > 1].index[0]
        found = ", ".join(sorted(counts.get_group(series)))
        raise ForecastDataError(f"{path.name}: series {series} is in several {group_col} groups ({found})")
    return counts.first().rename_axis("unique_id")


def _typed(frame: Any, path: Path) -> Any:
    """Text ids, datetime times and numeric targets; the first bad or repeated row is an error naming it."""
    frame = frame.astype({"unique_id": str})
    raw = {"ds": frame["ds"], "y": frame["y"]}  # the file's text, for the error message (no copy)
    frame["y"] = pd.to_numeric(frame["y"], errors="coerce")
    frame["ds"] = pd.to_datetime(frame["ds"], errors="coerce")
    for column, what in (("ds", "time"), ("y", "target")):
        bad = np.flatnonzero(frame[column].isna().to_numpy())
        if bad.size:
            value = raw[column].iloc[bad[0]]
            shown = "empty" if pd.isna(value) else repr(str(value))
            raise ForecastDataError(f"{path.name} line {_line(bad[0])}: the {what} is not valid ({shown})")
    repeated = np.flatnonzero(frame.duplicated(["unique_id", "ds"], keep=False).to_numpy())
    if repeated.size:
        first = frame.iloc[repeated[0]]
        same = frame.iloc[repeated]
        also_first = (same["unique_id"] == first["unique_id"]) & (same["ds"] == first["ds"])
        lines = [_line(i) for i in repeated[also_first.to_numpy()]]
        raise ForecastDataError(
            f"{path.name} lines {', '.join(map(str, lines))}: several rows for series {first['unique_id']} "
            f"at {raw['ds'].iloc[repeated[0]]}"
        )
    return frame.sort_values(["unique_id", "ds"], ignore_index=True)


def _line(row: int) -> int:
    """A data row's line in the file: the header is line 1."""
    return int(row) + 2


def _check_regular(frame: Any, freq: str) -> Any:
    """Fill missing periods with zero (no sale); reject times that are not on the ``freq`` grid."""
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError as error:
        raise ForecastDataError(f"unknown frequency {freq!r} (pandas alias, e.g. H, D, W-SUN, MS)") from error
    filled = []
    for series, group in frame.groupby("unique_id"):
        grid = pd.date_range(group["ds"].min(), group["ds"].max(), freq=offset)
        if not group["ds"].isin(grid).all():
            raise ForecastDataError(f"series {series}: times are not spaced by the frequency {freq!r}")
        filled.append(group.set_index("ds").reindex(grid, fill_value=0.0).assign(unique_id=series))
    return pd.concat(filled).rename_axis("ds").reset_index()[["unique_id", "ds", "y"]]


def _check_length(frame: Any, *, horizon: int, windows: int) -> None:
    """Each series needs the test windows, one selection window and as much again to train on."""
    needed = 2 * horizon * (windows + 1)
    lengths = frame.groupby("unique_id").size()
    short = lengths[lengths < needed]
    if len(short):
        raise ForecastDataError(
            f"{len(short)} series have fewer than {needed} points (2 x horizon x (windows + 1)), "
            f"e.g. {short.index[0]} with {int(short.iloc[0])}: shorten --horizon or --windows"
        )


def load(name: str, root: Path | None = None) -> SeriesSet:
    """A shipped dataset by name (see :data:`DATASET_NAMES`)."""
    folder = root or datasets_dir()
    loaders: dict[str, Callable[[], SeriesSet]] = {
        "m4-hourly": lambda: m4_hourly(folder),
        **{
            f"online-retail-{level}-{label}": _retail_loader(folder, level, freq)
            for level in ("sku", "country")
            for label, freq in (("daily", "D"), ("weekly", "W-SUN"))
        },
    }
    if name not in loaders:
        raise ForecastDataError(f"unknown dataset {name!r}; choose among {', '.join(DATASET_NAMES)}")
    return loaders[name]()


def _retail_loader(folder: Path, level: str, freq: str) -> Callable[[], SeriesSet]:
    return lambda: online_retail(folder, level=level, freq=freq)
