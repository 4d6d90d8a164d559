"""Reference tables built in Python: the dated FX table and the calendar (dim_date)."""

from __future__ import annotations

import csv
from datetime import date
from importlib import resources
from pathlib import Path

import pyarrow as pa

from shopsight.errors import ConfigError

FIRST_MONTH, LAST_MONTH = date(2000, 1, 1), date(2035, 12, 1)
FX_SCHEMA = pa.schema([("currency", pa.string()), ("month", pa.date32()), ("rate", pa.float64())])


def _read(path: Path | None) -> dict[str, list[tuple[date, float]]]:
    text = (
        path.read_text()
        if path is not None
        else resources.files("shopsight.warehouse").joinpath("seeds/fx_rates.csv").read_text()
    )
    rows = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    rates: dict[str, list[tuple[date, float]]] = {}
    for row in rows:
        try:
            rates.setdefault(row["currency"].upper(), []).append(
                (date.fromisoformat(row["valid_from"]), float(row["usd_per_unit"]))
            )
        except (KeyError, ValueError) as error:
            raise ConfigError(f"FX rates file: bad row {row}: {error}") from error
    return {currency: sorted(points) for currency, points in rates.items()}


def _months() -> list[date]:
    return [date(y, m, 1) for y in range(FIRST_MONTH.year, LAST_MONTH.year + 1) for m in range(1, 13)]


def fx_table(reporting_currency: str, path: Path | None = None) -> pa.Table:
    """Reporting-currency units per unit of each currency, for every month from 2000 to 2035.

    The rate of a month is the latest dated rate on or before its first day (before the first dated rate,
    the first one). Months of a currency the file does not know have no row, so their amounts stay NULL
    and the quality checks report them.
    """
    rates = _read(path)
    if reporting_currency not in rates:
        raise ConfigError(f"no FX rates for the reporting currency {reporting_currency}")

    def usd_per_unit(currency: str, month: date) -> float:
        points = rates[currency]
        current = points[0][1]
        for valid_from, value in points:
            if valid_from > month:
                break
            current = value
        return current

    currencies, months, values = [], [], []
    for currency in sorted(rates):
        for month in _months():
            currencies.append(currency)
            months.append(month)
            values.append(usd_per_unit(currency, month) / usd_per_unit(reporting_currency, month))
    return pa.table({"currency": currencies, "month": months, "rate": values}, schema=FX_SCHEMA)


def calendar(first: date, last: date) -> pa.Table:
    """dim_date rows from ``first`` to ``last`` inclusive."""
    days = pa.array(range(first.toordinal(), last.toordinal() + 1))
    dates = [date.fromordinal(d) for d in days.to_pylist()]
    return pa.table(
        {
            "date": pa.array(dates, pa.date32()),
            "year": pa.array([d.year for d in dates], pa.int32()),
            "quarter": pa.array([(d.month - 1) // 3 + 1 for d in dates], pa.int32()),
            "month": pa.array([d.month for d in dates], pa.int32()),
            "month_start": pa.array([d.replace(day=1) for d in dates], pa.date32()),
            "iso_week": pa.array([d.isocalendar().week for d in dates], pa.int32()),
            "week_start": pa.array(
                [date.fromordinal(d.toordinal() - d.weekday()) for d in dates], pa.date32()
            ),
            "day_of_week": pa.array([d.isoweekday() for d in dates], pa.int32()),
            "day_name": pa.array([d.strftime("%A") for d in dates], pa.string()),
            "is_weekend": pa.array([d.weekday() >= 5 for d in dates], pa.bool_()),
        }
    )
