"""Public holidays as LightGBM calendar features, for ``lightgbm_holidays``.

The calendar comes from the ``holidays`` package, for any country it knows (ISO 3166-1 code) and
optionally one subdivision: ``GB-ENG`` is England's bank holidays (the shipped online-retail sales are a
UK shop's), ``US``, ``DE-BY``. Each feature is a callable that mlforecast passes the dates of
``date_features`` to and names after its ``__name__``; it works out the years it needs from those dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from shopsight.errors import ShopSightError

HORIZON_DAYS = 14  # distances beyond two weeks all read as "far from a holiday"
FeatureKind = Literal["holiday", "days_to_holiday", "days_after_holiday", "holidays_in_week"]


class HolidayCalendarError(ShopSightError):
    """A holiday calendar code the ``holidays`` package does not know."""


@dataclass(frozen=True)
class HolidayCalendar:
    """One country's public holidays (and one subdivision's, e.g. England's within the UK)."""

    country: str
    subdivision: str | None = None

    @classmethod
    def parse(cls, code: str) -> HolidayCalendar:
        """``GB-ENG`` -> GB, England; ``US`` -> the US federal holidays. Unknown codes are an error that
        lists what is known."""
        country, _, subdivision = code.strip().upper().partition("-")
        known = _supported()
        if country not in known:
            raise HolidayCalendarError(f"no holiday calendar for country {country!r}; use an ISO 3166-1 code")
        if subdivision and subdivision not in known[country]:
            raise HolidayCalendarError(
                f"{country} has no subdivision {subdivision!r}; it has {', '.join(known[country]) or 'none'}"
            )
        return cls(country, subdivision or None)

    @property
    def code(self) -> str:
        return self.country if self.subdivision is None else f"{self.country}-{self.subdivision}"

    def days(self, first_year: int, last_year: int) -> Any:
        """The holidays of those years, observed (substitute) days included, as sorted day numbers."""
        return _holiday_days(self.country, self.subdivision, first_year, last_year)

    def features(self, freq: str | int) -> list[HolidayFeature]:
        """The features that fit ``freq``: daily flag and distances, a weekly count, else none."""
        if isinstance(freq, int):
            return []
        base = str(freq).split("-")[0].upper()
        kinds: tuple[FeatureKind, ...] = ()
        if base == "D":
            kinds = ("holiday", "days_to_holiday", "days_after_holiday")
        elif base == "W":
            kinds = ("holidays_in_week",)
        return [HolidayFeature(self, kind) for kind in kinds]


@dataclass(frozen=True)
class HolidayFeature:
    """One holiday feature of a calendar; a plain picklable value, so it also travels to Spark workers."""

    calendar: HolidayCalendar
    kind: FeatureKind

    @property
    def __name__(self) -> str:  # mlforecast names a date feature's column after it
        return self.kind

    def __call__(self, dates: Any) -> Any:
        days = _day_numbers(dates)
        if len(days) == 0:
            return np.zeros(0, dtype=np.int16)
        years = pd.DatetimeIndex(dates).year
        # A year either side, so distances across New Year see the neighbouring year's holidays.
        holidays = self.calendar.days(int(years.min()) - 1, int(years.max()) + 1)
        return _FEATURES[self.kind](days, holidays)


def _flag(days: Any, holidays: Any) -> Any:
    """1 on a holiday, else 0."""
    return np.isin(days, holidays).astype(np.int8)


def _days_to(days: Any, holidays: Any) -> Any:
    """Days until the next holiday (0 on one), at most ``HORIZON_DAYS``: the run-up to a long weekend."""
    if len(holidays) == 0:
        return np.full(len(days), HORIZON_DAYS, dtype=np.int16)
    following = np.searchsorted(holidays, days, side="left")
    inside = following < len(holidays)
    gap = np.where(inside, holidays[np.minimum(following, len(holidays) - 1)] - days, HORIZON_DAYS)
    return np.minimum(gap, HORIZON_DAYS).astype(np.int16)


def _days_after(days: Any, holidays: Any) -> Any:
    """Days since the last holiday (0 on one), at most ``HORIZON_DAYS``: the catch-up after it."""
    if len(holidays) == 0:
        return np.full(len(days), HORIZON_DAYS, dtype=np.int16)
    previous = np.searchsorted(holidays, days, side="right") - 1
    gap = np.where(previous >= 0, days - holidays[np.maximum(previous, 0)], HORIZON_DAYS)
    return np.minimum(gap, HORIZON_DAYS).astype(np.int16)


def _in_week(days: Any, holidays: Any) -> Any:
    """Holidays in the seven days ending on each date (weekly series are labelled by their end)."""
    ending = np.searchsorted(holidays, days, side="right")
    return (ending - np.searchsorted(holidays, days - 6, side="left")).astype(np.int8)


_FEATURES = {
    "holiday": _flag,
    "days_to_holiday": _days_to,
    "days_after_holiday": _days_after,
    "holidays_in_week": _in_week,
}


def _day_numbers(dates: Any) -> Any:
    return pd.DatetimeIndex(dates).normalize().to_numpy().astype("datetime64[D]").astype(np.int64)


@cache
def _holiday_days(country: str, subdivision: str | None, first_year: int, last_year: int) -> Any:
    import holidays

    calendar = holidays.country_holidays(country, subdiv=subdivision, years=range(first_year, last_year + 1))
    days = np.sort(_day_numbers(pd.DatetimeIndex(list(calendar))))
    days.flags.writeable = False  # shared by every caller through the cache
    return days


@cache
def _supported() -> dict[str, tuple[str, ...]]:
    import holidays

    return {country: tuple(subs) for country, subs in holidays.list_supported_countries().items()}
