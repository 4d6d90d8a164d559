"""Demo customers: segments with different habits, lifecycles (acquisition, decay, churn) and identities."""

from __future__ import annotations

import math
import unicodedata
import uuid
from dataclasses import dataclass, field
from random import Random
from typing import Any

import numpy as np
from faker import Faker

from shopsight.demo.catalog import LEAVES, Catalog
from shopsight.demo.market import COUNTRIES, City, Country, iso_ms, postal_code, random_ip
from shopsight.demo.payments import TEST_CARDS, Card, published_test_card, random_card


@dataclass(frozen=True)
class Segment:
    """A kind of shopper: how often they come, how deep they browse, how readily they buy."""

    name: str
    share_existing: float
    share_new: float
    visit_weight: float
    lifetime_days: float
    decay_days: float
    views_mean: float
    add_mult: float
    checkout_mult: float
    extra_units: float
    coupon_affinity: float
    promo_sensitivity: float


SEGMENTS: tuple[Segment, ...] = (
    Segment("bargain_hunter", 0.30, 0.30, 1.5, 300, 200, 5.0, 1.0, 0.8, 0.10, 0.7, 2.5),
    Segment("loyal_regular", 0.30, 0.15, 3.0, 700, 500, 4.0, 1.3, 1.25, 0.30, 0.2, 1.0),
    Segment("one_timer", 0.30, 0.50, 0.5, 45, 30, 3.0, 0.9, 0.9, 0.05, 0.2, 1.0),
    Segment("vip", 0.10, 0.05, 5.0, 1000, 700, 4.5, 1.6, 1.5, 0.80, 0.1, 1.0),
)
USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/123.0.0.0 Mobile Safari/537.36",
)
_FAKER_LOCALES = {
    "US": "en_US",
    "GB": "en_GB",
    "DE": "de_DE",
    "FR": "fr_FR",
    "NL": "nl_NL",
    "AU": "en_AU",
    "CA": "en_CA",
}
_EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "hotmail.com")
COUNTRY_CUM = tuple(
    sum(c.traffic_share for c in list(COUNTRIES.values())[: i + 1]) for i in range(len(COUNTRIES))
)


def new_uuid(rng: Random) -> str:
    """A version-4 UUID drawn from the seeded generator (deterministic)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def pick_country(rng: Random) -> Country:
    """A market, weighted by its share of traffic."""
    return rng.choices(list(COUNTRIES.values()), cum_weights=COUNTRY_CUM)[0]


@dataclass
class Customer:
    """A shopper with an account; kept in memory for the whole run (customers are few)."""

    index: int
    customer_id: str
    email: str
    phone: str
    first_name: str
    last_name: str
    address: dict[str, Any]
    country: Country
    city: City
    created_ms: int
    created_day: int
    churn_day: int
    segment: Segment
    accepts_marketing: bool
    favourites: tuple[int, ...]
    anonymous_id: str
    device_id: str
    user_agent: str
    ip: str
    cards: list[Card]
    signup_source: str
    order_count: int = 0
    ordered_products: list[str] = field(default_factory=list)

    def to_row(self) -> dict[str, Any]:
        """The ``customer`` entity row, as at sign-up."""
        return {
            "customer_id": self.customer_id,
            "email": self.email,
            "phone": self.phone,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "address": self.address,
            "country": self.country.code,
            "created_at": iso_ms(self.created_ms),
            "segment": self.segment.name,
            "accepts_marketing": self.accepts_marketing,
            "attributes": {
                "locale": self.country.locale,
                "timezone": self.city.timezone,
                "signup_source": self.signup_source,
            },
        }

    def traits(self) -> dict[str, Any]:
        """Identify-call traits (Segment's reserved trait names)."""
        return {
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "phone": self.phone,
            "address": _segment_address(self.address),
            "createdAt": iso_ms(self.created_ms),
        }


def _segment_address(address: dict[str, Any]) -> dict[str, Any]:
    return {
        "street": address["line1"],
        "city": address["city"],
        "state": address["region"],
        "postalCode": address["postal_code"],
        "country": address["country"],
    }


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


class CustomerFactory:
    """Makes customers with locale-true names and addresses (Faker, seeded)."""

    def __init__(self, seed: int, catalog: Catalog) -> None:
        self._fakers: dict[str, Faker] = {}
        for offset, (code, locale) in enumerate(_FAKER_LOCALES.items()):
            fake = Faker(locale)
            fake.seed_instance(seed * 31 + offset)
            self._fakers[code] = fake
        self._catalog = catalog
        self.created = 0

    def address(self, country: Country, rng: Random, city: City | None = None) -> dict[str, Any]:
        """A street address in the country (a random city unless given)."""
        city = city or rng.choice(country.cities)
        fake = self._fakers[country.code]
        number, street = fake.building_number(), fake.street_name()
        line1 = f"{number} {street}" if country.code in ("US", "GB", "AU", "CA") else f"{street} {number}"
        line2 = f"Apt {rng.randrange(1, 40)}{rng.choice('ABCD')}" if rng.random() < 0.2 else None
        return {
            "line1": line1,
            "line2": line2,
            "city": city.name,
            "region": city.region,
            "postal_code": postal_code(country, city, rng),
            "country": country.code,
        }

    def create(
        self,
        *,
        rng: Random,
        country: Country,
        created_ms: int,
        created_day: int,
        new: bool,
        signup_source: str,
    ) -> Customer:
        """A customer signed up at ``created_ms``; existing-base customers use the existing segment mix."""
        index = self.created
        self.created += 1
        segment = rng.choices(SEGMENTS, weights=[s.share_new if new else s.share_existing for s in SEGMENTS])[
            0
        ]
        fake = self._fakers[country.code]
        first, last = fake.first_name(), fake.last_name()
        city = rng.choice(country.cities)
        card = published_test_card(index, rng) if index < len(TEST_CARDS) else random_card(rng)
        return Customer(
            index=index,
            customer_id=f"cus_{index + 1:07d}",
            email=f"{_ascii(first)}.{_ascii(last)}{rng.randrange(1, 1000)}@{rng.choice(_EMAIL_DOMAINS)}",
            phone=_phone(country.code, rng),
            first_name=first,
            last_name=last,
            address=self.address(country, rng, city),
            country=country,
            city=city,
            created_ms=created_ms,
            created_day=created_day,
            churn_day=created_day + math.ceil(rng.expovariate(1 / segment.lifetime_days)),
            segment=segment,
            accepts_marketing=rng.random() < 0.55,
            favourites=tuple(rng.sample(range(len(LEAVES)), 2 if rng.random() < 0.7 else 3)),
            anonymous_id=new_uuid(rng),
            device_id=new_uuid(rng),
            user_agent=rng.choice(USER_AGENTS),
            ip=random_ip(country, rng),
            cards=[card] if rng.random() < 0.8 else [card, random_card(rng)],
            signup_source=signup_source,
        )


def _phone(country: str, rng: Random) -> str:
    digits = "".join(str(rng.randrange(10)) for _ in range(8))
    formats = {
        "US": f"+1 {rng.randint(201, 989)}-555-{rng.randint(100, 199):04d}",
        "CA": f"+1 {rng.randint(204, 905)}-555-{rng.randint(100, 199):04d}",
        "GB": f"+44 7700 900{rng.randrange(1000):03d}",
        "AU": f"+61 491 570 {rng.randrange(1000):03d}",
        "DE": f"+49 151 {digits}",
        "FR": f"+33 6 {digits}",
        "NL": f"+31 6 {digits}",
    }
    return formats[country]


class CustomerBase:
    """Every customer, plus columns for fast daily picking of who comes back."""

    def __init__(self) -> None:
        self.customers: list[Customer] = []
        self._created = np.zeros(1024, dtype=np.int64)
        self._churn = np.zeros(1024, dtype=np.int64)
        self._weight = np.zeros(1024, dtype=np.float64)
        self._decay = np.ones(1024, dtype=np.float64)

    def add(self, customer: Customer) -> None:
        """Register a customer so it can return on later days."""
        n = len(self.customers)
        if n == len(self._created):
            self._created, self._churn, self._weight, self._decay = (
                np.concatenate([column, np.zeros_like(column)])
                for column in (self._created, self._churn, self._weight, self._decay)
            )
        self._created[n], self._churn[n] = customer.created_day, customer.churn_day
        self._weight[n], self._decay[n] = customer.segment.visit_weight, customer.segment.decay_days
        self.customers.append(customer)

    def pick_returning(self, day: int, count: int, np_rng: np.random.Generator) -> list[Customer]:
        """``count`` returning visits among active customers, weighted by habit and decaying with age."""
        n = len(self.customers)
        if count <= 0 or n == 0:
            return []
        created, churn = self._created[:n], self._churn[:n]
        active = (created < day) & (churn > day)
        weights = np.where(active, self._weight[:n] * np.exp(-(day - created) / self._decay[:n]), 0.0)
        total = float(weights.sum())
        if total <= 0:
            return []
        picks = np_rng.choice(n, size=count, p=weights / total)
        return [self.customers[int(i)] for i in picks]

    def pick_victim(self, day: int, rng: Random) -> Customer | None:
        """An established, active customer, preferably one with past orders (a takeover target)."""
        pool = [c for c in self.customers if c.created_day < day - 30 and c.churn_day > day]
        buyers = [c for c in pool if c.order_count]
        pool = buyers or pool
        return rng.choice(pool) if pool else None
