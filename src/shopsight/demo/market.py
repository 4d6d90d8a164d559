"""Where and when the demo store sells: countries, seasonality, promotions and marketing channels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from random import Random
from zoneinfo import ZoneInfo

DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class City:
    """A city customers live in; its time zone drives local shopping hours."""

    name: str
    region: str
    postal_prefix: str
    timezone: str


@dataclass(frozen=True)
class Country:
    """A market: currency, locale, taxes, IP ranges and cities."""

    code: str
    currency: str
    locale: str
    tax_rate: float
    per_usd: float
    ip_octets: tuple[int, ...]
    cities: tuple[City, ...]
    traffic_share: float
    carrier: str
    free_shipping_over: float
    shipping_fee: float


def _c(name: str, region: str, postal: str, tz: str) -> City:
    return City(name, region, postal, tz)


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country(
            "US",
            "USD",
            "en-US",
            0.07,
            1.0,
            (24, 66, 73, 98, 174),
            (
                _c("New York", "NY", "100", "America/New_York"),
                _c("Los Angeles", "CA", "900", "America/Los_Angeles"),
                _c("Chicago", "IL", "606", "America/Chicago"),
                _c("Austin", "TX", "787", "America/Chicago"),
                _c("Seattle", "WA", "981", "America/Los_Angeles"),
                _c("Miami", "FL", "331", "America/New_York"),
            ),
            0.40,
            "UPS",
            50.0,
            6.99,
        ),
        Country(
            "GB",
            "GBP",
            "en-GB",
            0.20,
            0.79,
            (81, 86, 92),
            (
                _c("London", "ENG", "SW1", "Europe/London"),
                _c("Manchester", "ENG", "M1", "Europe/London"),
                _c("Edinburgh", "SCT", "EH1", "Europe/London"),
            ),
            0.15,
            "Royal Mail",
            40.0,
            3.99,
        ),
        Country(
            "DE",
            "EUR",
            "de-DE",
            0.19,
            0.92,
            (79, 84, 91),
            (
                _c("Berlin", "BE", "10", "Europe/Berlin"),
                _c("Munich", "BY", "80", "Europe/Berlin"),
                _c("Hamburg", "HH", "20", "Europe/Berlin"),
            ),
            0.12,
            "DHL",
            50.0,
            4.90,
        ),
        Country(
            "FR",
            "EUR",
            "fr-FR",
            0.20,
            0.92,
            (78, 82, 90),
            (
                _c("Paris", "IDF", "75", "Europe/Paris"),
                _c("Lyon", "ARA", "69", "Europe/Paris"),
                _c("Marseille", "PAC", "13", "Europe/Paris"),
            ),
            0.08,
            "Colissimo",
            50.0,
            4.90,
        ),
        Country(
            "NL",
            "EUR",
            "nl-NL",
            0.21,
            0.92,
            (77, 83, 145),
            (
                _c("Amsterdam", "NH", "10", "Europe/Amsterdam"),
                _c("Rotterdam", "ZH", "30", "Europe/Amsterdam"),
                _c("Utrecht", "UT", "35", "Europe/Amsterdam"),
            ),
            0.05,
            "PostNL",
            40.0,
            3.95,
        ),
        Country(
            "AU",
            "AUD",
            "en-AU",
            0.10,
            1.52,
            (1, 49, 101, 110),
            (
                _c("Sydney", "NSW", "20", "Australia/Sydney"),
                _c("Melbourne", "VIC", "30", "Australia/Melbourne"),
                _c("Brisbane", "QLD", "40", "Australia/Brisbane"),
                _c("Perth", "WA", "60", "Australia/Perth"),
            ),
            0.10,
            "Australia Post",
            80.0,
            9.95,
        ),
        Country(
            "CA",
            "CAD",
            "en-CA",
            0.13,
            1.36,
            (70, 99, 142),
            (
                _c("Toronto", "ON", "M5V", "America/Toronto"),
                _c("Vancouver", "BC", "V6B", "America/Vancouver"),
                _c("Montreal", "QC", "H2X", "America/Toronto"),
            ),
            0.10,
            "Canada Post",
            75.0,
            9.99,
        ),
    )
}

# Where account takeovers come from: countries the store does not sell to.
ATTACKER_ORIGINS: tuple[Country, ...] = (
    Country(
        "BR",
        "BRL",
        "pt-BR",
        0.0,
        5.0,
        (177, 179, 186),
        (_c("Sao Paulo", "SP", "01", "America/Sao_Paulo"),),
        0.0,
        "",
        0.0,
        0.0,
    ),
    Country(
        "VN",
        "VND",
        "vi-VN",
        0.0,
        25_000.0,
        (113, 14, 27),
        (_c("Hanoi", "HN", "10", "Asia/Ho_Chi_Minh"),),
        0.0,
        "",
        0.0,
        0.0,
    ),
    Country(
        "NG",
        "NGN",
        "en-NG",
        0.0,
        1500.0,
        (105, 102, 197),
        (_c("Lagos", "LA", "10", "Africa/Lagos"),),
        0.0,
        "",
        0.0,
        0.0,
    ),
)

WEEKDAY_FACTOR = (0.92, 0.90, 0.93, 0.97, 1.05, 1.28, 1.32)
MONTH_FACTOR = (0.86, 0.82, 0.92, 0.95, 0.97, 0.84, 0.78, 0.80, 0.95, 1.02, 1.38, 1.62)
# Local hour of day: quiet nights, lunchtime bump, evening peak.
HOUR_WEIGHTS = (
    0.6,
    0.35,
    0.2,
    0.15,
    0.15,
    0.25,
    0.6,
    1.2,
    1.8,
    2.2,
    2.5,
    2.8,
    3.2,
    3.0,
    2.8,
    2.7,
    2.8,
    3.1,
    3.6,
    4.2,
    4.6,
    4.3,
    3.2,
    1.6,
)
HOUR_CUM = tuple(sum(HOUR_WEIGHTS[: i + 1]) for i in range(24))


def random_ip(country: Country, rng: Random) -> str:
    """An IPv4 address inside one of the country's demo ranges."""
    first = rng.choice(country.ip_octets)
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def postal_code(country: Country, city: City, rng: Random) -> str:
    """A postal code in the local format, starting with the city's prefix."""
    code, prefix = country.code, city.postal_prefix
    if code == "GB":
        letters = "ABDEFGHJLNPQRSTUWXY"
        return f"{prefix} {rng.randrange(1, 10)}{rng.choice(letters)}{rng.choice(letters)}"
    if code == "CA":
        return f"{prefix} {rng.randrange(10)}{rng.choice('ABCEGHJKLMNPRSTVXY')}{rng.randrange(10)}"
    if code == "NL":
        letters = "ABCDEGHJKLMNPRSTVWXZ"
        return f"{prefix}{rng.randrange(10, 100)} {rng.choice(letters)}{rng.choice(letters)}"
    width = {"US": 5, "DE": 5, "FR": 5, "AU": 4}.get(code, 5)
    return prefix + "".join(str(rng.randrange(10)) for _ in range(width - len(prefix)))


@lru_cache(maxsize=8192)
def local_midnight_ms(timezone: str, day: date) -> int:
    """UTC epoch milliseconds of local midnight of ``day`` in ``timezone``."""
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
    return int(local.astimezone(UTC).timestamp() * 1000)


def local_hour_ms(rng: Random, *, hours: tuple[int, ...] | None = None) -> int:
    """Milliseconds after local midnight, drawn from the shopping-hour curve (or among ``hours``)."""
    hour = rng.choice(hours) if hours else rng.choices(range(24), cum_weights=HOUR_CUM)[0]
    return hour * 3_600_000 + rng.randrange(3_600_000)


def iso_ms(epoch_ms: int) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z``, as Segment's libraries write it (exact integer maths)."""
    return (_EPOCH + timedelta(milliseconds=epoch_ms)).isoformat(timespec="milliseconds") + "Z"


@dataclass(frozen=True)
class Promotion:
    """A sale: a date range, a coupon code and a discount, optionally on one top category."""

    promotion_id: str
    name: str
    coupon: str
    discount: float
    start: date
    end: date
    top_category: str | None
    traffic_uplift: float

    def active(self, day: date) -> bool:
        """True while the promotion runs (both ends included)."""
        return self.start <= day <= self.end

    @property
    def campaign(self) -> str:
        """The UTM campaign name of its marketing push."""
        return self.name.lower().replace(" ", "_")


def _black_friday(year: int) -> date:
    thanksgiving = date(year, 11, 1) + timedelta(days=(3 - date(year, 11, 1).weekday()) % 7 + 21)
    return thanksgiving + timedelta(days=1)


def plan_promotions(start: date, days: int) -> list[Promotion]:
    """The store's yearly promotion calendar for every year the demo spans."""
    end = start + timedelta(days=days)
    promotions: list[Promotion] = []
    for year in range(start.year, end.year + 1):
        friday = _black_friday(year)
        promotions += [
            Promotion(
                f"promo_{year}_newyear",
                "New Year",
                f"NEWYEAR{year % 100}",
                0.10,
                date(year, 1, 2),
                date(year, 1, 8),
                None,
                1.1,
            ),
            Promotion(
                f"promo_{year}_spring",
                "Spring Home",
                "SPRING15",
                0.15,
                date(year, 4, 10),
                date(year, 4, 20),
                "Home",
                1.1,
            ),
            Promotion(
                f"promo_{year}_summer",
                "Summer Sale",
                "SUMMER20",
                0.20,
                date(year, 7, 10),
                date(year, 7, 24),
                "Apparel",
                1.2,
            ),
            Promotion(
                f"promo_{year}_bf",
                "Black Friday",
                "BLACKFRIDAY25",
                0.25,
                friday,
                friday + timedelta(days=3),
                None,
                1.9,
            ),
            Promotion(
                f"promo_{year}_holiday",
                "Holiday Gifts",
                "HOLIDAY15",
                0.15,
                date(year, 12, 8),
                date(year, 12, 20),
                None,
                1.15,
            ),
        ]
    return [p for p in promotions if p.end >= start and p.start < end]


def traffic_weight(day: date, promotions: list[Promotion]) -> float:
    """Relative visit volume of a day: weekday x month x running promotions."""
    weight = WEEKDAY_FACTOR[day.weekday()] * MONTH_FACTOR[day.month - 1]
    for promotion in promotions:
        if promotion.active(day):
            weight *= promotion.traffic_uplift
    return weight
