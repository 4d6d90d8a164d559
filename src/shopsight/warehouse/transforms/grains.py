"""The periods KPIs are asked by, with no heavy import: the CLI's ``--grain`` option needs them before
(or without) ibis."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

# "total" is the whole requested range as one period (the API's period-over-period summaries).
Grain = Literal["day", "week", "month", "total"]


class PeriodGrain(StrEnum):
    """The period lengths people ask KPIs by (CLI and API)."""

    day = "day"
    week = "week"
    month = "month"
