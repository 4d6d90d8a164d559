"""The catalog documents every built table and column, no more, with the types the build writes."""

from __future__ import annotations

import copy

import pyarrow.parquet as pq
import pytest

from shopsight.engines import open_warehouse_engine
from shopsight.entities.classification import Classification
from shopsight.entities.fields import classification_map
from shopsight.entities.models import Customer, Location, Order, Product, Review
from shopsight.platform import Platform
from shopsight.warehouse.catalog import build_catalog, catalog_json, catalog_problems, load_docs
from shopsight.warehouse.pipeline import run_pipeline
from shopsight.warehouse.transforms.kpis import METRICS

LEVELS = list(Classification)  # least to most sensitive
ENTITY_OF = {
    "dim_customer": (Customer, ""),
    "dim_product": (Product, ""),
    "dim_location": (Location, ""),
    "fact_review": (Review, ""),
    "fact_payment": (Order, "payments."),
    "fact_order_item": (Order, "items."),
}


def test_the_documentation_has_no_gaps_and_names_nothing_unknown() -> None:
    assert catalog_problems() == []


def test_every_built_column_is_documented_with_its_written_type(hand_store: Platform) -> None:
    engine = open_warehouse_engine(hand_store.settings, "duckdb")
    try:
        version = run_pipeline(hand_store.settings, hand_store.lake, engine).version
    finally:
        engine.close()
    catalog = build_catalog()
    documented = {t.name for t in catalog.tables if t.layer not in ("raw", "seed")}
    assert set(version.tables) == documented
    for name, table in version.tables.items():
        written = pq.read_schema(table.files[0])
        doc = catalog.table(name)
        assert [c.name for c in doc.columns] == written.names, name
        derived = {node.name: node.schema for node in catalog.lineage}[name].to_pyarrow()
        assert [f.type for f in derived] == [f.type for f in written], name


def test_a_missing_or_unknown_column_is_reported() -> None:
    docs = copy.deepcopy(load_docs())
    docs["tables"]["fact_refund"]["columns"]["refund_reason"] = "Not built."
    del docs["tables"]["fact_refund"]["columns"]["origin"]
    docs["tables"]["fact_order"]["columns"]["tax"] = {"description": "Tax", "classifcation": "pii"}
    catalog = build_catalog()
    assert catalog_problems(catalog, docs) == [
        "fact_order.tax: unknown key 'classifcation'",
        "fact_refund.refund_reason: documented but not built",
    ]


def test_sensitive_columns_are_classified() -> None:
    catalog = build_catalog()
    customer = {c.name: c.classification for c in catalog.table("dim_customer").columns}
    assert customer["email"] is Classification.PII and customer["customer_id"] is Classification.INTERNAL
    payment = {c.name: c.classification for c in catalog.table("fact_payment").columns}
    assert {payment[n] for n in ("card_token", "card_bin", "card_last4")} == {Classification.PAYMENT}
    assert catalog.table("fact_payment").owner == "finance"


@pytest.mark.parametrize("table", sorted(ENTITY_OF))
def test_no_column_is_less_sensitive_than_the_entity_field_it_comes_from(table: str) -> None:
    model, prefix = ENTITY_OF[table]
    fields = classification_map(model)
    for column in build_catalog().table(table).columns:
        source = fields.get(prefix + column.name)
        if source is not None:
            assert LEVELS.index(column.classification) >= LEVELS.index(source), (table, column.name)


def test_every_metric_definition_is_exported() -> None:
    exported = catalog_json(build_catalog())
    metrics = {m["name"]: m for m in exported["metrics"]}
    assert set(metrics) == {m.name for m in METRICS}
    assert metrics["aov"]["formula"] == "sum(revenue) / sum(orders)"
    kpi = {c["name"]: c for c in next(t for t in exported["tables"] if t["name"] == "kpi_daily")["columns"]}
    assert kpi["cac"]["description"].startswith("Customer acquisition cost")
    assert {"from": "fact_session", "to": "kpi_daily"} in exported["lineage"]["edges"]
