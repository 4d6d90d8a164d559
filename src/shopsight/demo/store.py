"""The simulated shop's running state: catalog, stock, customers, calendar and today's output buffers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any

import numpy as np

from shopsight.demo.catalog import Catalog
from shopsight.demo.customers import CustomerBase, CustomerFactory
from shopsight.demo.inventory import Stock
from shopsight.demo.market import DAY_MS, Promotion

Row = dict[str, Any]


@dataclass
class DayOutput:
    """Everything dated to one simulated day: events and entity rows by kind."""

    events: list[Row] = field(default_factory=list)
    rows: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class Today:
    """The simulated day being played."""

    index: int
    date: date
    promotions: list[Promotion]

    @property
    def promotion(self) -> Promotion | None:
        """The headline promotion running today, if any."""
        return self.promotions[0] if self.promotions else None


@dataclass
class Counters:
    """Sequence numbers for human-friendly ids (orders, shipments, reviews, payments)."""

    orders: int = 0
    shipments: int = 0
    reviews: int = 0
    payments: int = 0

    def next_order_id(self) -> str:
        """A new order number."""
        self.orders += 1
        return f"ord_{self.orders:08d}"

    def next_shipment_id(self) -> str:
        """A new shipment number."""
        self.shipments += 1
        return f"shp_{self.shipments:08d}"

    def next_review_id(self) -> str:
        """A new review number."""
        self.reviews += 1
        return f"rev_{self.reviews:08d}"

    def next_payment_id(self) -> str:
        """A new payment number."""
        self.payments += 1
        return f"pay_{self.payments:08d}"


class DemoStore:
    """All state one run of the simulation mutates; not shared between runs."""

    def __init__(
        self,
        *,
        start: date,
        days: int,
        rng: Random,
        np_rng: np.random.Generator,
        catalog: Catalog,
        stock: Stock,
        factory: CustomerFactory,
        promotions: list[Promotion],
    ) -> None:
        self.start, self.days = start, days
        self.start_ms = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1000)
        self.end_ms = self.start_ms + days * DAY_MS
        self.rng, self.np_rng = rng, np_rng
        self.catalog, self.stock, self.factory = catalog, stock, factory
        self.customers = CustomerBase()
        self.promotions = promotions
        self.ids = Counters()
        self.today = Today(0, start, [])
        self.out = DayOutput()
        self.pending: dict[int, DayOutput] = {}
        self.paid_visits: dict[tuple[str, str], int] = defaultdict(int)

    def begin_day(self, index: int) -> Today:
        """Move the clock to day ``index`` and pick up output scheduled for it earlier."""
        day = self.start + timedelta(days=index)
        self.today = Today(index, day, [p for p in self.promotions if p.active(day)])
        self.out = self.pending.pop(index) if index in self.pending else DayOutput()
        self.paid_visits.clear()
        return self.today

    def day_of(self, epoch_ms: int) -> int:
        """Day index (UTC) of a moment."""
        return (epoch_ms - self.start_ms) // DAY_MS

    def in_horizon(self, epoch_ms: int) -> bool:
        """True when a moment falls before the end of the simulated period."""
        return epoch_ms < self.end_ms

    def emit_event(self, event: Row, at_ms: int | None = None) -> None:
        """Queue an event for today, or for the day it happens on when that is later."""
        self._bucket(at_ms).events.append(event)

    def emit_row(self, kind: str, row: Row, at_ms: int | None = None) -> None:
        """Queue an entity row for today, or for a later day."""
        self._bucket(at_ms).rows[kind].append(row)

    def _bucket(self, at_ms: int | None) -> DayOutput:
        if at_ms is None:
            return self.out
        day = max(self.today.index, self.day_of(at_ms))
        if day == self.today.index:
            return self.out
        return self.pending.setdefault(day, DayOutput())
