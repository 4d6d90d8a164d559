"""Mapping parsing and the per-row transform: coercion, templates, cases, rules, nesting."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shopsight.errors import ConfigError
from shopsight.importer.mapping import (
    Condition,
    FieldSpec,
    builtin_mapping_names,
    load_mapping,
    parse_mapping,
)
from shopsight.importer.transform import RowContext, RowProblem, build, coerce, evaluate, holds, render

CELLS = {"InvoiceNo": "C536379", "CustomerID": "17850.0", "Qty": "-6", "Price": "2.55", "Empty": ""}
ROW = RowContext(
    {**CELLS, "When": "2011-06-01 12:00:00", "Epoch": "1396437466.94"}, number=17, file_name="data.csv"
)


def test_every_shipped_mapping_loads_and_the_dataset_ones_exist() -> None:
    names = builtin_mapping_names()
    assert {"online-retail", "cdnow", "yoochoose-100k", "amazon-reviews", "uci-sentiment-sentences"} <= set(
        names
    )
    for name in names:
        assert load_mapping(name).name == name


def test_bad_mappings_fail_with_one_clear_line() -> None:
    with pytest.raises(ConfigError, match="records"):
        parse_mapping("name: x\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        parse_mapping("name: [unclosed\n")
    with pytest.raises(ConfigError, match="one of column, value or template"):
        parse_mapping("name: x\nrecords: [{kind: order, fields: {a: {column: A, value: 1}}}]\n")
    with pytest.raises(ConfigError, match="no mapping named 'nope'"):
        load_mapping("nope")


def test_coercion_of_ids_numbers_and_times() -> None:
    assert evaluate(FieldSpec(column="CustomerID", type="id"), ROW, "t") == "17850"
    assert evaluate(FieldSpec(column="Qty", type="int"), ROW, "t") == -6
    assert evaluate(FieldSpec(column="Price", type="float", multiply=100), ROW, "t") == pytest.approx(255)
    assert evaluate(FieldSpec(column="Price", type="float", divide_by="Qty"), ROW, "t") == pytest.approx(
        -0.425
    )
    summer = FieldSpec(column="When", type="datetime", format="%Y-%m-%d %H:%M:%S", timezone="Europe/London")
    assert evaluate(summer, ROW, "t") == datetime(2011, 6, 1, 11, 0, tzinfo=UTC)  # BST is UTC+1
    assert evaluate(FieldSpec(column="Epoch", type="datetime", unit="s"), ROW, "t").year == 2014
    assert coerce("20240131", FieldSpec(column="x", type="date", format="%Y%m%d")) == date(2024, 1, 31)
    assert coerce("yes", FieldSpec(column="x", type="bool")) is True
    assert evaluate(FieldSpec(column="Empty", default="n/a"), ROW, "t") == "n/a"


def test_a_cell_that_cannot_be_its_type_names_field_value_and_type() -> None:
    with pytest.raises(RowProblem, match=r"items\.quantity: cannot read '2\.55' from Price as int"):
        evaluate(FieldSpec(column="Price", type="int"), ROW, "items.quantity")
    with pytest.raises(RowProblem, match="column 'Missing' is missing"):
        evaluate(FieldSpec(column="Missing"), ROW, "t")


def test_templates_cases_and_nested_targets() -> None:
    assert render("{InvoiceNo}-{CustomerID}-{_line}@{_file}", ROW) == "C536379-17850-17@data.csv"
    status = FieldSpec(
        column="InvoiceNo", cases=({"matches": "^C", "value": "cancelled"},), default="completed"
    )
    assert evaluate(status, ROW, "status") == "cancelled"
    items = {"quantity": FieldSpec(column="Qty", type="int")}
    tree = {"status": status, "context.library.name": FieldSpec(value="x"), "items[]": items,
            "gone": FieldSpec(column="Empty")}  # fmt: skip
    assert build(tree, ROW) == {  # type: ignore[arg-type]
        "status": "cancelled",
        "context": {"library": {"name": "x"}},
        "items": [{"quantity": -6}],
    }


def test_conditions() -> None:
    assert holds(Condition(column="Empty", empty=True), ROW)
    assert not holds(Condition(column="Qty", empty=True), ROW)
    assert holds(Condition(column="InvoiceNo", matches="^C"), ROW)
    assert holds(Condition(column="Price", equals=2.55), ROW)
    assert not holds(Condition(column="Price", equals=0), ROW)
    assert holds(Condition(column="Qty", lt=0), ROW) and not holds(Condition(column="Qty", ge=0), ROW)
    assert not holds(Condition(column="InvoiceNo", lt=0), ROW)  # not a number: the rule does not apply
