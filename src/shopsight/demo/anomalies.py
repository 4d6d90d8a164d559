"""Injected fraud with ground truth: a card-sharing fraud ring and account-takeover bursts.

Each anomaly is played through the same session code as honest shoppers, so detectors must find it
from the data (shared cards and devices, odd hours, failed-login bursts from abroad), not from a flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random
from typing import Any

from shopsight.demo.behaviour import Session, Visitor, add_to_cart, land, sign_in, sign_up, view_product
from shopsight.demo.catalog import Product
from shopsight.demo.customers import USER_AGENTS, Customer, new_uuid
from shopsight.demo.funnel import expensive_checkout
from shopsight.demo.market import (
    ATTACKER_ORIGINS,
    COUNTRIES,
    Country,
    iso_ms,
    local_hour_ms,
    local_midnight_ms,
    random_ip,
)
from shopsight.demo.marketing import CHANNELS
from shopsight.demo.payments import Card, random_card
from shopsight.demo.store import DemoStore, Row

DIRECT = next(c for c in CHANNELS if c.name == "direct")
ODD_HOURS = (1, 2, 3, 4)


@dataclass
class AnomalyLabel:
    """Ground truth for one injected anomaly, written to ``labels.json``."""

    anomaly_id: str
    kind: str
    description: str
    user_ids: list[str] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    card_last4: list[str] = field(default_factory=list)
    device_ids: list[str] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    first_ms: int | None = None
    last_ms: int | None = None

    def saw(
        self,
        *,
        start_ms: int,
        end_ms: int,
        user_id: str | None = None,
        order: Row | None = None,
        device_id: str | None = None,
        ip: str | None = None,
    ) -> None:
        """Record what one anomalous session involved."""
        self.first_ms = start_ms if self.first_ms is None else min(self.first_ms, start_ms)
        self.last_ms = end_ms if self.last_ms is None else max(self.last_ms, end_ms)
        for values, value in ((self.user_ids, user_id), (self.device_ids, device_id), (self.ips, ip)):
            if value and value not in values:
                values.append(value)
        if order is not None:
            self.order_ids.append(order["order_id"])

    def to_dict(self) -> dict[str, Any]:
        """The JSON form in ``labels.json``."""
        window = None
        if self.first_ms is not None and self.last_ms is not None:
            window = {"start": iso_ms(self.first_ms), "end": iso_ms(self.last_ms)}
        return {
            "anomaly_id": self.anomaly_id,
            "kind": self.kind,
            "description": self.description,
            "user_ids": self.user_ids,
            "order_ids": self.order_ids,
            "card_last4": self.card_last4,
            "device_ids": self.device_ids,
            "ips": self.ips,
            "countries": self.countries,
            "window": window,
        }


@dataclass
class _Ring:
    label: AnomalyLabel
    market: Country
    cards: list[Card]
    devices: list[str]
    ips: list[str]
    user_agent: str
    members: list[Customer | None]


class Anomalies:
    """Plans anomalies up front and plays them on their days."""

    def __init__(self, rng: Random, *, days: int, rings: int, takeovers: int, markets: list[Country]) -> None:
        self._days = days
        self._markets = markets
        self._labels: list[AnomalyLabel] = []
        self._visits: dict[int, list[tuple[_Ring, int]]] = {}
        self._takeovers: dict[int, list[AnomalyLabel]] = {}
        for n in range(rings):
            self._plan_ring(rng, n + 1)
        for n in range(takeovers):
            label = AnomalyLabel(
                f"ato_{n + 1}",
                "account_takeover",
                "Burst of failed logins from a new country, then sign-in, email and address "
                "change and a high-value order on a new card.",
            )
            self._labels.append(label)
            self._takeovers.setdefault(rng.randrange(max(1, days // 5), days), []).append(label)

    def _plan_ring(self, rng: Random, number: int) -> None:
        market = COUNTRIES["US"] if COUNTRIES["US"] in self._markets else rng.choice(self._markets)
        cards = [random_card(rng) for _ in range(3)]
        subnet = random_ip(market, rng).rsplit(".", 1)[0]
        label = AnomalyLabel(
            f"fraud_ring_{number}",
            "fraud_ring",
            "Accounts sharing a few cards and devices, shipping high-value orders to many "
            "addresses at night.",
            card_last4=[c.last4 for c in cards],
            countries=[market.code],
        )
        ring = _Ring(
            label,
            market,
            cards,
            [new_uuid(rng) for _ in range(2)],
            [f"{subnet}.{rng.randrange(2, 254)}" for _ in range(3)],
            rng.choice(USER_AGENTS),
            [None] * rng.randint(4, 6),
        )
        self._labels.append(label)
        window_start = rng.randrange(int(self._days * 0.3), max(int(self._days * 0.3) + 1, self._days - 10))
        for member in range(len(ring.members)):
            count = rng.randint(1, 3)
            days = sorted(rng.sample(range(window_start, window_start + 10), count))
            for day in days:
                if day < self._days:
                    self._visits.setdefault(day, []).append((ring, member))

    def play_day(self, store: DemoStore) -> None:
        """Run the anomalous sessions planned for today."""
        day = store.today.index
        for ring, member in self._visits.pop(day, []):
            self._ring_visit(store, ring, member)
        for label in self._takeovers.pop(day, []):
            if not self._takeover(store, label) and day + 1 < self._days:
                self._takeovers.setdefault(day + 1, []).append(label)

    def labels(self) -> list[dict[str, Any]]:
        """Ground truth of every anomaly that was actually injected."""
        return [label.to_dict() for label in self._labels if label.first_ms is not None]

    def _ring_visit(self, store: DemoStore, ring: _Ring, member: int) -> None:
        rng, market = store.rng, ring.market
        timezone = market.cities[0].timezone
        start = local_midnight_ms(timezone, store.today.date) + local_hour_ms(rng, hours=ODD_HOURS)
        customer = ring.members[member]
        visitor = Visitor(
            customer,
            market,
            new_uuid(rng),
            rng.choice(ring.devices),
            ring.user_agent,
            rng.choice(ring.ips),
            market.locale,
            timezone,
            logged_in=False,
        )
        session = Session(store, visitor, start, DIRECT, None)
        land(session)
        if customer is None:
            ring.members[member] = customer = sign_up(session)
        else:
            sign_in(session)
        order = _grab_expensive(session, rng.choice(ring.cards), store.factory.address(market, rng))
        ring.label.saw(
            start_ms=start,
            end_ms=session.clock_ms,
            user_id=customer.customer_id,
            order=order,
            device_id=visitor.device_id,
            ip=visitor.ip,
        )

    def _takeover(self, store: DemoStore, label: AnomalyLabel) -> bool:
        rng = store.rng
        victim = store.customers.pick_victim(store.today.index, rng)
        if victim is None:
            return False
        origin = rng.choice(ATTACKER_ORIGINS)
        timezone = victim.city.timezone
        start = local_midnight_ms(timezone, store.today.date) + local_hour_ms(rng)
        visitor = Visitor(
            victim,
            victim.country,
            new_uuid(rng),
            new_uuid(rng),
            rng.choice(USER_AGENTS),
            random_ip(origin, rng),
            origin.locale,
            origin.cities[0].timezone,
            logged_in=False,
        )
        session = Session(store, visitor, start, DIRECT, None)
        land(session)
        sign_in(session, failures=rng.randint(8, 25))
        new_address = store.factory.address(victim.country, rng)
        new_email = f"{victim.customer_id.replace('_', '')}.{rng.randrange(10_000)}@proton.me"
        session.identify(
            {
                "email": new_email,
                "address": {
                    "street": new_address["line1"],
                    "city": new_address["city"],
                    "postalCode": new_address["postal_code"],
                    "country": new_address["country"],
                },
            }
        )
        session.track("Profile Updated", {"fields": ["email", "address"]})
        card = random_card(rng)
        order = _grab_expensive(session, card, new_address)
        label.card_last4.append(card.last4)
        label.countries.append(origin.code)
        label.saw(
            start_ms=start,
            end_ms=session.clock_ms,
            user_id=victim.customer_id,
            order=order,
            device_id=visitor.device_id,
            ip=visitor.ip,
        )
        return True


def _grab_expensive(session: Session, card: Card, shipping_address: Row) -> Row | None:
    """View the priciest electronics, take what is in stock in bulk, and pay at once."""
    rng = session.store.rng
    candidates: list[Product] = session.store.catalog.most_expensive("Electronics", 6)
    for product in rng.sample(candidates, k=min(3, len(candidates))):
        in_stock = view_product(session, product)
        if in_stock:
            left = session.store.stock.available(in_stock[0].variant_id, session.location_id)
            add_to_cart(session, product, in_stock[0], min(left, rng.randint(1, 3)))
    if not session.cart:
        return None
    return expensive_checkout(session, card=card, shipping_address=shipping_address)
