"""Payment cards for the demo: the well-known test PANs plus random Luhn-valid numbers.

Raw card numbers and CVVs are deliberate: they exercise tokenization and CVV dropping at ingestion.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

# Published test numbers (Stripe, Braintree, Adyen docs); each is given to exactly one customer so
# a card shared by several accounts stays a fraud signal.
TEST_CARDS: tuple[tuple[str, str], ...] = (
    ("4111111111111111", "visa"),
    ("4242424242424242", "visa"),
    ("4012888888881881", "visa"),
    ("4000056655665556", "visa"),
    ("5555555555554444", "mastercard"),
    ("5105105105105100", "mastercard"),
    ("2223003122003222", "mastercard"),
    ("5200828282828210", "mastercard"),
    ("378282246310005", "amex"),
    ("371449635398431", "amex"),
    ("6011111111111117", "discover"),
    ("6011000990139424", "discover"),
    ("3056930009020004", "diners"),
    ("3566002020360505", "jcb"),
    ("6200000000000005", "unionpay"),
)
_PREFIXES = {
    "visa": ("4",),
    "mastercard": ("51", "52", "53", "54", "55"),
    "amex": ("34", "37"),
    "discover": ("6011",),
}
_BRAND_CUM = (("visa", 55), ("mastercard", 85), ("amex", 95), ("discover", 100))


@dataclass(frozen=True)
class Card:
    """A payment card as a customer types it in."""

    number: str
    cvv: str
    brand: str

    @property
    def last4(self) -> str:
        """The last four digits, what labels and receipts show."""
        return self.number[-4:]


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when ``number`` is all digits and passes the Luhn check."""
    return number.isdigit() and len(number) >= 12 and luhn_check_digit(number[:-1]) == number[-1]


def random_card(rng: Random) -> Card:
    """A random Luhn-valid card of a weighted brand."""
    pick = rng.randrange(100)
    brand = next(name for name, bound in _BRAND_CUM if pick < bound)
    prefix = rng.choice(_PREFIXES[brand])
    length = 15 if brand == "amex" else 16
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - 1 - len(prefix)))
    return Card(body + luhn_check_digit(body), _cvv(brand, rng), brand)


def published_test_card(index: int, rng: Random) -> Card:
    """The ``index``-th published test card with a random CVV."""
    number, brand = TEST_CARDS[index]
    return Card(number, _cvv(brand, rng), brand)


def _cvv(brand: str, rng: Random) -> str:
    digits = 4 if brand == "amex" else 3
    return "".join(str(rng.randrange(10)) for _ in range(digits))
