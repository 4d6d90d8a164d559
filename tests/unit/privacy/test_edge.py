"""The single-pass privacy guard does exactly what the two separate walks did: scrub, then encrypt."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shopsight.events.classification import is_pii_event_path
from shopsight.privacy.blind_index import blind_index
from shopsight.privacy.edge import BLIND_KINDS, EVENT_SECTIONS, PrivacyGuard, _pii_key

KEYS = "email E_mail Phone first_name name address ip note id CVV card-cvc securityCode card_number items"
KEYS = [*KEYS.split(), *EVENT_SECTIONS]
TEXTS = [
    "",
    "plain",
    "4111111111111111",
    "pay 4111 1111 1111 1111 now",
    "5555-5555-5555-4444",
    "+1 415 555 0100",
    "c0ffee00-4111-1111-1111-111111111111",
    "enc:v1:abc:def",
    "x\n6011111111111117",
]
scalars = st.one_of(
    st.sampled_from(TEXTS),
    st.text(max_size=8),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 7, 1700000000000, 4111111111111111, -4111111111111111, 5555555555554444]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
fields = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), values, max_size=5)
events = st.builds(  # any top-level fields, plus often a dict in the sections where PII is encrypted
    lambda top, sections: {**top, **sections},
    fields,
    st.fixed_dictionaries({}, optional=dict.fromkeys(EVENT_SECTIONS, fields)),
)


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> PrivacyGuard:
    return PrivacyGuard(tmp_path_factory.mktemp("edge") / "keys")


def _reference(guard: PrivacyGuard, event: dict[str, Any]) -> dict[str, Any]:
    """The former implementation: TokenVault.scrub everywhere, then a walk that marks PII to encrypt.

    A PII value becomes ``("PII", field, clear value)``; ``_blind`` holds the expected blind indexes.
    """

    def mark(node: Any, path: str) -> Any:
        if isinstance(node, list):
            return [mark(v, path) for v in node]
        if not isinstance(node, dict):
            return node
        return {
            key: ("PII", f"{path}.{key}", value)
            if _pii_key(str(key)) and is_pii_event_path(f"{path}.{key}") and value not in (None, "")
            else mark(value, f"{path}.{key}")
            for key, value in node.items()
        }

    def blind(node: Any, into: dict[str, str]) -> None:
        if isinstance(node, tuple) and node[0] == "PII" and not _encrypted(node[2]):
            kind = node[1].rsplit(".", 1)[-1].lower()
            if kind in BLIND_KINDS:
                into[node[1]] = blind_index(guard.blind_key, kind, _text(node[2]))
        elif isinstance(node, dict | list):
            for child in node.values() if isinstance(node, dict) else node:
                blind(child, into)

    scrubbed: dict[str, Any] = guard.vault.scrub(event)
    indexes: dict[str, str] = {}
    for section in EVENT_SECTIONS:
        if isinstance(scrubbed.get(section), dict):
            scrubbed[section] = mark(scrubbed[section], section)
            blind(scrubbed[section], indexes)
    if indexes:
        scrubbed["_blind"] = indexes
    return scrubbed


def _encrypted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("enc:v1:")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _same(guard: PrivacyGuard, got: Any, expected: Any) -> None:
    if isinstance(expected, tuple):  # ("PII", field, clear value): got must be its ciphertext
        _, field, clear = expected
        if _encrypted(clear):
            assert got == clear  # already encrypted values are left alone
            return
        assert _encrypted(got)
        assert guard.decrypt_field(got, field) == _text(clear)
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected)
        for key in expected:
            _same(guard, got[key], expected[key])
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            _same(guard, g, e)
    else:
        assert got == expected and type(got) is type(expected)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events)
@example({"traits": {"items": [{"email": "a@b.c", "cvv": 1}, [{"Phone": "+1 415 555 0100"}]]}})
@example({"properties": {"address": {"line": "4111 1111 1111 1111", "CVC": "123"}, "name": 5555555555554444}})
@example({"context": {"ip": ["203.0.113.9", {"note": "x"}], "E_mail": "", "phone": None}, "email": "top@x.y"})
def test_protect_event_matches_the_two_pass_reference(guard: PrivacyGuard, event: dict[str, Any]) -> None:
    protected, expected = guard.protect_event(event, subject="u-1"), _reference(guard, event)
    assert protected.pop("_blind", None) == expected.pop("_blind", None)  # a mapping: order is moot
    _same(guard, protected, expected)


def test_a_card_anywhere_is_tokenized_even_when_the_document_looks_clean_elsewhere(
    guard: PrivacyGuard,
) -> None:
    event = {
        "properties": {"items": [{"note": "card 4111-1111-1111-1111"}], "n": 5555555555554444},
        "integrations": {"x": {"CVC": 123}},
    }
    protected = guard.protect_event(event, subject="u-1")
    assert protected["properties"]["items"][0]["note"].startswith("card tok_")
    assert str(protected["properties"]["n"]).startswith("tok_")
    assert protected["integrations"] == {"x": {}}


def test_protect_row_matches_scrub_then_path_encryption(guard: PrivacyGuard) -> None:
    row = {"id": "o1", "note": "4111111111111111", "cvv": "1", "address": {"line1": "1 Main St", "cvc": "2"}}
    protected = guard.protect_row(row, subject="c1", pii_fields={"address"})
    assert protected["note"].startswith("tok_") and "cvv" not in protected
    assert guard.decrypt_field(protected["address"], "address") == '{"line1":"1 Main St"}'


def test_the_path_decides_whether_a_name_is_pii(guard: PrivacyGuard) -> None:
    event = {
        "traits": {"name": "Ada Lovelace", "company": {"name": "Analytical Engines"}},
        "properties": {"name": "Blue Mug", "products": [{"name": "Red Mug"}], "recipient": "b@x.y"},
        "context": {"campaign": {"name": "spring"}, "ip": "203.0.113.9", "traits": {"email": "a@x.y"}},
    }
    protected = guard.protect_event(event, subject="u-1")
    assert _encrypted(protected["traits"]["name"]) and _encrypted(protected["traits"]["company"]["name"])
    assert protected["properties"]["name"] == "Blue Mug"  # a product's name is business data
    assert protected["properties"]["products"] == [{"name": "Red Mug"}]
    assert _encrypted(protected["properties"]["recipient"])
    assert protected["context"]["campaign"] == {"name": "spring"}
    assert _encrypted(protected["context"]["ip"]) and _encrypted(protected["context"]["traits"]["email"])


def test_a_card_number_used_as_a_key_is_tokenized(guard: PrivacyGuard) -> None:
    event = {"4111111111111111": 1, "properties": {"5555 5555 5555 4444": {"x": 1}}}
    protected = guard.protect_event(event, subject="u-1")
    assert "4111111111111111" not in orjson.dumps(protected).decode()
    assert "5555 5555 5555 4444" not in orjson.dumps(protected).decode()
