"""Entity models: every field classified, demo rows valid, published JSON Schemas current and usable."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import orjson
import pytest

from shopsight.cli.schemas import render
from shopsight.demo import DemoConfig, generate
from shopsight.entities import ENTITY_MODELS, Classification, classification_map, pii_paths
from shopsight.entities.classification import SCHEMA_KEY
from shopsight.entities.models import Customer, InventoryLevel, MarketingSpend, Order
from shopsight.events.classification import classify_event_path
from shopsight.records import RecordKind
from shopsight.schemas import all_schemas

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def demo_rows() -> dict[str, list[dict[str, object]]]:
    rows: dict[str, list[dict[str, object]]] = {}
    for item in generate(DemoConfig(seed=7, events=3000, days=60)):
        if item.kind not in ("event", "labels"):
            rows.setdefault(item.kind, []).append(item.data)
    return rows


def test_every_entity_kind_has_a_model_and_every_leaf_a_classification() -> None:
    assert set(ENTITY_MODELS) == set(RecordKind) - {RecordKind.EVENT}
    for model in ENTITY_MODELS.values():
        levels = classification_map(model)
        assert levels and all(isinstance(level, Classification) for level in levels.values())


def test_pii_and_payment_fields_are_the_ones_the_edge_must_protect() -> None:
    assert {"email", "phone", "first_name", "last_name", "address.line1", "address.postal_code"} <= pii_paths(
        Customer
    )
    assert "address.country" not in pii_paths(Customer)  # analytics keep the country
    levels = classification_map(Order)
    assert levels["payments.card_number"] is Classification.PAYMENT
    assert levels["payments.cvv"] is Classification.PAYMENT
    assert levels["shipping_address.line1"] is Classification.PII
    assert levels["total"] is Classification.INTERNAL


def test_every_demo_row_validates_and_names_its_key_time_and_owner(
    demo_rows: dict[str, list[dict[str, object]]],
) -> None:
    assert set(demo_rows) == {kind.value for kind in ENTITY_MODELS}
    for kind, rows in demo_rows.items():
        model = ENTITY_MODELS[RecordKind(kind)]
        keys = [model.model_validate(row).key() for row in rows]
        assert all(keys), kind
    order = Order.model_validate(demo_rows["order"][0])
    assert order.subject() == order.customer_id and order.business_time() == order.placed_at
    level = InventoryLevel.model_validate(demo_rows["inventory_level"][0])
    assert level.key().startswith(f"{level.product_id}|")
    spend = MarketingSpend.model_validate(demo_rows["marketing_spend"][0])
    assert spend.business_time() is not None


def test_bad_entity_rows_are_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="items"):
        Order.model_validate(
            {"order_id": "o1", "placed_at": "2024-01-01T00:00:00Z", "currency": "USD", "status": "placed",
             "items": []}
        )  # fmt: skip
    with pytest.raises(ValueError, match="unit_price"):
        Order.model_validate(
            {"order_id": "o1", "placed_at": "2024-01-01T00:00:00Z", "currency": "USD", "status": "placed",
             "items": [{"product_id": "p", "quantity": 1, "unit_price": -3}]}
        )  # fmt: skip
    with pytest.raises(ValueError, match="nickname"):
        Customer.model_validate({"customer_id": "c1", "nickname": "x"})


def test_event_paths_are_classified_by_meaning() -> None:
    assert classify_event_path("traits.email") is Classification.PII
    assert classify_event_path("context.traits.address.city") is Classification.PII
    assert classify_event_path("context.ip") is Classification.PII
    assert classify_event_path("properties.recipient") is Classification.PII
    assert classify_event_path("properties.payments.card_number") is Classification.PAYMENT
    assert classify_event_path("properties.cvv") is Classification.PAYMENT
    # A product's name is catalog data, a campaign's name marketing data: neither is a person's name.
    assert classify_event_path("properties.name") is Classification.INTERNAL
    assert classify_event_path("context.campaign.name") is Classification.INTERNAL
    assert classify_event_path("userId") is Classification.INTERNAL


def test_published_schemas_in_the_repository_are_current() -> None:
    schemas = all_schemas()
    published = {
        path.relative_to(REPO / "schemas").as_posix(): path.read_bytes()
        for path in (REPO / "schemas").rglob("*.json")
    }
    assert set(published) == set(schemas), "run `shopsight schemas export` and commit schemas/"
    for relative, schema in schemas.items():
        assert published[relative] == render(schema), f"{relative} is stale: run `shopsight schemas export`"


def test_schemas_are_valid_and_every_property_is_classified(
    demo_rows: dict[str, list[dict[str, object]]],
) -> None:
    schemas = all_schemas()
    assert len([p for p in schemas if p.startswith("events/ecommerce/")]) == 28
    for relative, schema in schemas.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert all(SCHEMA_KEY in sub for sub in schema["properties"].values()), relative
    for kind, rows in demo_rows.items():
        validator = jsonschema.Draft202012Validator(schemas[f"entities/{kind}.v1.json"])
        for row in rows[:50]:
            validator.validate(orjson.loads(orjson.dumps(row)))
