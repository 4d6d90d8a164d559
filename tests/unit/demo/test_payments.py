"""Card numbers: published test PANs and random Luhn-valid ones."""

from __future__ import annotations

from random import Random

import pytest

from shopsight.demo.payments import TEST_CARDS, luhn_check_digit, luhn_valid, published_test_card, random_card


@pytest.mark.parametrize(("number", "brand"), TEST_CARDS)
def test_published_test_cards_pass_luhn(number: str, brand: str) -> None:
    assert luhn_valid(number)


def test_luhn_rejects_a_changed_digit() -> None:
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("41111111111111a1")
    assert luhn_check_digit("7992739871") == "3"


def test_random_cards_are_valid_and_branded() -> None:
    rng = Random(1)
    cards = [random_card(rng) for _ in range(500)]
    assert all(luhn_valid(card.number) for card in cards)
    for card in cards:
        assert len(card.cvv) == (4 if card.brand == "amex" else 3)
        assert len(card.number) == (15 if card.brand == "amex" else 16)
    assert {card.brand for card in cards} == {"visa", "mastercard", "amex", "discover"}
    assert len({card.number for card in cards}) == 500


def test_published_card_keeps_its_number() -> None:
    card = published_test_card(0, Random(2))
    assert card.number == "4111111111111111" and card.last4 == "1111"
