"""``generate(config)``: stream a seeded demo store, day by day, as Segment events and entity rows.

Memory stays bounded by one simulated day (plus a few weeks of scheduled refunds, reviews and
restocks); customers and the catalog are small and live in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from random import Random
from typing import Any, NamedTuple

import numpy as np

from shopsight.demo.anomalies import Anomalies
from shopsight.demo.behaviour import Visitor
from shopsight.demo.catalog import build_catalog
from shopsight.demo.customers import USER_AGENTS, CustomerFactory, new_uuid
from shopsight.demo.funnel import run_session
from shopsight.demo.inventory import LOCATIONS, Stock, assign_suppliers
from shopsight.demo.market import (
    COUNTRIES,
    DAY_MS,
    Country,
    iso_ms,
    local_hour_ms,
    local_midnight_ms,
    plan_promotions,
    random_ip,
    traffic_weight,
)
from shopsight.demo.marketing import CHANNELS
from shopsight.demo.store import DemoStore, Row

# Order in which each day's entity rows are streamed: referenced rows before the rows that refer to them.
DAY_ROW_KINDS = ("order", "shipment", "review", "inventory_level", "marketing_spend")
ENTITY_KINDS = ("location", "supplier", "product", "customer", *DAY_ROW_KINDS)
EVENTS_PER_SESSION_GUESS = 12.0
RETURNING_SHARE = 0.55


@dataclass(frozen=True)
class DemoConfig:
    """What to generate. The same config always yields the same items, byte for byte."""

    seed: int = 42
    events: int = 10_000
    start: date = date(2024, 1, 1)
    days: int = 365
    countries: tuple[str, ...] = tuple(COUNTRIES)
    full_inventory_snapshots: bool = False
    fraud_rings: int | None = None
    account_takeovers: int | None = None

    def __post_init__(self) -> None:
        if self.events < 1 or self.days < 1:
            raise ValueError("events and days must be positive")
        unknown = [c for c in self.countries if c not in COUNTRIES]
        if unknown or not self.countries:
            raise ValueError(f"unknown countries {unknown}; choose among {', '.join(COUNTRIES)}")


class DemoItem(NamedTuple):
    """One generated item: ``kind`` is ``"event"``, an entity kind (``"order"``...) or ``"labels"``."""

    kind: str
    data: dict[str, Any]


def generate(config: DemoConfig) -> Iterator[DemoItem]:
    """Stream the demo store: opening entities, then each day's events and rows, then the anomaly labels."""
    simulation = _Simulation(config)
    yield from simulation.opening()
    for index in range(config.days):
        yield from simulation.play_day(index)
    yield DemoItem("labels", simulation.labels())


class _SessionBudget:
    """Spreads the target event count over days by traffic weight, learning events per session as it goes."""

    def __init__(self, target: int, weights: list[float]) -> None:
        self._target = target
        self._weights = weights
        self._remaining_weight = list(accumulate(reversed(weights)))[::-1]
        self._events = 0
        self._sessions = 0

    def sessions_for(self, day: int, rng: Random) -> int:
        """How many sessions to simulate today so the total lands near the target."""
        per_session = self._events / self._sessions if self._sessions > 20 else EVENTS_PER_SESSION_GUESS
        share = self._weights[day] / self._remaining_weight[day]
        expected = max(0, self._target - self._events) * share / per_session
        whole = int(expected)
        return whole + (rng.random() < expected - whole)

    def record(self, *, sessions: int, events: int) -> None:
        """Account for what a day produced."""
        self._sessions += sessions
        self._events += events


class _Simulation:
    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        rng = Random(config.seed)
        sessions = config.events / EVENTS_PER_SESSION_GUESS
        catalog = build_catalog(
            rng,
            product_count=min(2500, max(60, int(config.events**0.5 * 1.2))),
            days=config.days,
            created_before=iso_ms(_day_ms(config.start) - 400 * DAY_MS),
        )
        self.suppliers = assign_suppliers(catalog, rng)
        stock = Stock(catalog, expected_units=sessions * 0.06, days=config.days, rng=rng)
        self.store = DemoStore(
            start=config.start,
            days=config.days,
            rng=rng,
            np_rng=np.random.default_rng(config.seed),
            catalog=catalog,
            stock=stock,
            factory=CustomerFactory(config.seed, catalog),
            promotions=plan_promotions(config.start, config.days),
        )
        weights = [
            traffic_weight(config.start + timedelta(days=d), self.store.promotions)
            for d in range(config.days)
        ]
        self.budget = _SessionBudget(config.events, weights)
        self.markets = [COUNTRIES[c] for c in config.countries]
        self.market_cum = list(accumulate(m.traffic_share for m in self.markets))
        rings = config.fraud_rings if config.fraud_rings is not None else 1 + config.events // 1_000_000
        takeovers = (
            config.account_takeovers
            if config.account_takeovers is not None
            else (2 + config.events // 250_000)
        )
        self.anomalies = Anomalies(
            rng, days=config.days, rings=rings, takeovers=takeovers, markets=self.markets
        )
        self.opening_customers = max(40, int(sessions * 0.06))

    def opening(self) -> Iterator[DemoItem]:
        """Locations, suppliers, the catalog, the existing customer base and opening stock."""
        store = self.store
        for location in LOCATIONS:
            yield DemoItem("location", location.to_row())
        for supplier in self.suppliers:
            yield DemoItem("supplier", supplier)
        for product in store.catalog.products:
            yield DemoItem("product", product.to_row())
        for _ in range(self.opening_customers):
            yield DemoItem("customer", self._existing_customer())
        for row in store.stock.snapshot(iso_ms(store.start_ms - 1)):
            yield DemoItem("inventory_level", row)

    def _existing_customer(self) -> Row:
        store, rng = self.store, self.store.rng
        created_day = -rng.randrange(1, 730)
        customer = store.factory.create(
            rng=rng,
            country=self._pick_market(rng),
            new=False,
            created_day=created_day,
            created_ms=store.start_ms + created_day * DAY_MS + rng.randrange(DAY_MS),
            signup_source=rng.choice(("organic_search", "direct", "paid_search", "paid_social", "referral")),
        )
        store.customers.add(customer)
        return customer.to_row()

    def _pick_market(self, rng: Random) -> Country:
        return rng.choices(self.markets, cum_weights=self.market_cum)[0]

    def play_day(self, index: int) -> Iterator[DemoItem]:
        """Simulate one day and stream what it produced."""
        store = self.store
        today = store.begin_day(index)
        store.stock.start_day(index)
        visitors = self._visitors(index)
        starts = [local_midnight_ms(v.timezone, today.date) + local_hour_ms(store.rng) for v in visitors]
        for start, position in sorted((start, i) for i, start in enumerate(starts)):
            run_session(store, visitors[position], start)
        self.anomalies.play_day(store)
        self.budget.record(sessions=len(visitors), events=len(store.out.events))
        as_of = iso_ms(store.start_ms + (index + 1) * DAY_MS - 1)
        inventory = store.stock.end_day(index, as_of, store.rng)
        if self.config.full_inventory_snapshots:
            inventory = store.stock.snapshot(as_of)
        store.out.rows["inventory_level"] = inventory
        store.out.rows["marketing_spend"] = self._spend_rows(today.date)
        yield from self._flush()

    def _visitors(self, index: int) -> list[Visitor]:
        store, rng = self.store, self.store.rng
        count = self.budget.sessions_for(index, rng)
        returning_count = int(store.np_rng.binomial(count, RETURNING_SHARE)) if count else 0
        visitors = []
        for customer in store.customers.pick_returning(index, returning_count, store.np_rng):
            visitor = Visitor.of_customer(customer, logged_in=rng.random() < 0.7)
            if rng.random() < 0.15:  # on another device: anonymous until they sign in
                visitor.anonymous_id, visitor.device_id, visitor.logged_in = (
                    new_uuid(rng),
                    new_uuid(rng),
                    False,
                )
                visitor.user_agent = rng.choice(USER_AGENTS)
            visitors.append(visitor)
        while len(visitors) < count:
            visitors.append(self._new_visitor(rng))
        return visitors

    def _new_visitor(self, rng: Random) -> Visitor:
        market = self._pick_market(rng)
        city = rng.choice(market.cities)
        return Visitor(
            None,
            market,
            new_uuid(rng),
            new_uuid(rng),
            rng.choice(USER_AGENTS),
            random_ip(market, rng),
            market.locale,
            city.timezone,
            logged_in=False,
        )

    def _spend_rows(self, day: date) -> list[Row]:
        """Daily cost, impressions and clicks per paid channel and campaign, consistent with UTM visits."""
        store, rng = self.store, self.store.rng
        campaigns: dict[tuple[str, str], Any] = {}
        promotion = store.today.promotion
        for channel in CHANNELS:
            names = list(channel.campaigns)
            if promotion is not None and channel.name in ("email", "paid_social"):
                names.append(promotion.campaign)
            for name in names:
                campaigns.setdefault((channel.name, name), channel)
        rows = []
        for (channel_name, campaign), channel in campaigns.items():
            visits = store.paid_visits.get((channel_name, campaign), 0)
            clicks = round(visits * rng.uniform(1.2, 1.6)) + (rng.random() < 0.3)
            impressions = int(clicks / channel.click_through_rate * rng.uniform(0.8, 1.2)) + rng.randrange(
                20, 200
            )
            cost = clicks * channel.cost_per_click * rng.uniform(0.85, 1.15) + impressions * 0.0005
            rows.append(
                {
                    "day": day.isoformat(),
                    "channel": channel_name,
                    "campaign": campaign,
                    "cost": round(cost, 2),
                    "currency": "USD",
                    "impressions": impressions,
                    "clicks": clicks,
                }
            )
        return rows

    def _flush(self) -> Iterator[DemoItem]:
        out = self.store.out
        for row in out.rows.pop("customer", []):
            yield DemoItem("customer", row)
        out.events.sort(key=lambda event: event["timestamp"])
        for event in out.events:
            yield DemoItem("event", event)
        for kind in DAY_ROW_KINDS:
            for row in out.rows.get(kind, []):
                yield DemoItem(kind, row)

    def labels(self) -> dict[str, Any]:
        """Ground truth of the injected anomalies plus what generated them."""
        config = self.config
        return {
            "seed": config.seed,
            "events_target": config.events,
            "start": config.start.isoformat(),
            "days": config.days,
            "anomalies": self.anomalies.labels(),
        }


def _day_ms(day: date) -> int:
    return local_midnight_ms("UTC", day)
