"""UK (England and Wales) bank holidays as LightGBM calendar features, for ``lightgbm_holidays``.

The ``holidays`` package is not installed, so the calendar covers the years of the shipped sales data
(online-retail: a UK shop, December 2010 to December 2011) and the next one; dates outside 2010-2012 see
no holiday. Each function takes the dates mlforecast passes to ``date_features`` and returns one value
per date, named after the function.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

# gov.uk bank holidays, England and Wales (substitute days included; 2011-04-29 royal wedding, 2012-06-05
# diamond jubilee).
UK_BANK_HOLIDAYS = pd.DatetimeIndex(
    [
        "2010-01-01", "2010-04-02", "2010-04-05", "2010-05-03", "2010-05-31", "2010-08-30", "2010-12-27",
        "2010-12-28", "2011-01-03", "2011-04-22", "2011-04-25", "2011-04-29", "2011-05-02", "2011-05-30",
        "2011-08-29", "2011-12-26", "2011-12-27", "2012-01-02", "2012-04-06", "2012-04-09", "2012-05-07",
        "2012-06-04", "2012-06-05", "2012-08-27", "2012-12-25", "2012-12-26",
    ]
)  # fmt: skip
HORIZON_DAYS = 14  # distances beyond two weeks all read as "far from a holiday"


def _days(dates: Any) -> Any:
    return pd.DatetimeIndex(dates).normalize().to_numpy().astype("datetime64[D]").astype(np.int64)


def uk_bank_holiday(dates: Any) -> Any:
    """1 on a bank holiday, else 0."""
    return np.isin(_days(dates), _days(UK_BANK_HOLIDAYS)).astype(np.int8)


def days_to_uk_bank_holiday(dates: Any) -> Any:
    """Days until the next bank holiday (0 on one), at most ``HORIZON_DAYS``: the run-up to a long weekend."""
    days, holidays = _days(dates), _days(UK_BANK_HOLIDAYS)
    following = np.searchsorted(holidays, days, side="left")
    gap = np.where(
        following < len(holidays), holidays[np.minimum(following, len(holidays) - 1)] - days, 10**6
    )
    return np.minimum(gap, HORIZON_DAYS).astype(np.int16)


def days_after_uk_bank_holiday(dates: Any) -> Any:
    """Days since the last bank holiday (0 on one), at most ``HORIZON_DAYS``: the catch-up after it."""
    days, holidays = _days(dates), _days(UK_BANK_HOLIDAYS)
    previous = np.searchsorted(holidays, days, side="right") - 1
    gap = np.where(previous >= 0, days - holidays[np.maximum(previous, 0)], 10**6)
    return np.minimum(gap, HORIZON_DAYS).astype(np.int16)


def uk_bank_holidays_in_week(dates: Any) -> Any:
    """Bank holidays in the seven days ending on each date (weekly series are labelled by their end)."""
    days, holidays = _days(dates), _days(UK_BANK_HOLIDAYS)
    return (
        np.searchsorted(holidays, days, side="right") - np.searchsorted(holidays, days - 6, side="left")
    ).astype(np.int8)


def holiday_features(freq: str | int) -> list[Any]:
    """The holiday features that fit ``freq``: daily distances and flag, a weekly count, else none."""
    if isinstance(freq, int):
        return []
    base = str(freq).split("-")[0].upper()
    if base == "D":
        return [uk_bank_holiday, days_to_uk_bank_holiday, days_after_uk_bank_holiday]
    return [uk_bank_holidays_in_week] if base == "W" else []
