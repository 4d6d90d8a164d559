"""The whole-document card pre-check never misses a card that the per-string scan would tokenize."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from shopsight.privacy.cards import CARD_CANDIDATE, luhn_valid, may_hold_card


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    """A Luhn-valid PAN of 13-19 digits starting 2-6, written with optional single spaces or dashes."""
    body = str(draw(st.integers(2, 6))) + "".join(
        str(d) for d in draw(st.lists(st.integers(0, 9), min_size=11, max_size=17))
    )
    check = next(str(d) for d in range(10) if luhn_valid(body + str(d)))
    digits = body + check
    separators = draw(
        st.lists(st.sampled_from(["", "", " ", "-"]), min_size=len(digits), max_size=len(digits))
    )
    return "".join(d + s for d, s in zip(digits, separators[:-1], strict=False)) + digits[-1]


# Around the number: quotes, backslashes, control characters (escaped in JSON), letters, digits of
# other scripts, and plain text.
surroundings = st.text(
    alphabet=st.sampled_from([*'ab Z0_-"\\/\n\t\r\x00\x1f\x7f€٤٣', "\u2028", "ü"]), max_size=6
)


@st.composite
def texts_with_cards(draw: st.DrawFn) -> str:
    return draw(surroundings) + draw(card_numbers()) + draw(surroundings)


def _documents(text: str) -> list[Any]:
    return [text, {"k": text}, {"a": [1, {"note": text}]}, {text: text}]


@given(texts_with_cards())
@example("x\n4111 1111 1111 1111")
@example('say "4111111111111111"')
@example("\\n4111111111111111")
@example("\x1f5555-5555-5555-4444")
@example("٤4111111111111111")
def test_a_card_the_string_scan_finds_is_never_missed_by_the_document_scan(text: str) -> None:
    if CARD_CANDIDATE.search(text) is None:
        return  # glued to a word character or a dash: not a candidate for the string scan either
    for document in _documents(text):
        assert may_hold_card(document), document


@given(st.integers(min_value=10**12, max_value=10**19 - 1))
def test_card_sized_integers_are_never_missed(number: int) -> None:
    if CARD_CANDIDATE.search(str(number)) is not None:
        assert may_hold_card({"card_number": number}) and may_hold_card([number])


def test_everyday_documents_pass_without_a_string_scan() -> None:
    event = {
        "messageId": "c0ffee00-4111-1111-1111-111111111111",
        "context": {"ip": "203.0.113.9", "device": {"id": "cdb6160c-58ac-4a4e-9564-099178887235"}},
        "properties": {"price": 41.5, "sku": "b4111111111111111", "ts": 1700000000000},
        "timestamp": "2026-11-20T10:00:00.123000Z",
    }
    assert not may_hold_card(event)


def test_what_orjson_cannot_encode_falls_back_to_the_string_scan() -> None:
    assert may_hold_card({"big": 10**30})
    assert may_hold_card({1: "one"})
    assert may_hold_card({"lone surrogate": "\ud800"})


def test_the_json_encoding_is_what_the_scan_sees() -> None:
    # The same escapes as the standard library: the look-behind allowances cover exactly these.
    text = '\n\t\r\b\f\x00\x1f"\\'
    assert orjson.loads(orjson.dumps(text)) == json.loads(json.dumps(text)) == text
