"""Table reads built from request parameters (ASVS V1.2.4): values and names from the query
string are data to the engine, never SQL. Runs :func:`query_table` (what the mart and entity routes call)
on a real in-memory DuckDB table."""

from __future__ import annotations

from collections.abc import Iterator

import ibis
import ibis.expr.types as ir
import pytest

from shopsight.warehouse.reader import BadQuery, TableQuery, query_table

ROWS = {"country": ["DE", "FR", "x' OR '1'='1"], "orders": [3, 5, 7]}


@pytest.fixture
def table() -> Iterator[ir.Table]:
    connection = ibis.duckdb.connect()
    yield connection.create_table("mart_probe", ibis.memtable(ROWS))
    connection.disconnect()


@pytest.mark.parametrize(
    "hostile",
    ["DE' OR '1'='1", "DE'; DROP TABLE mart_probe; --", 'DE" OR "1"="1', "%", "DE' --"],
)
def test_filter_values_are_compared_as_data(table: ir.Table, hostile: str) -> None:
    page = query_table(table, TableQuery(filters={"country": hostile}))
    assert page.total == 0 and page.rows.num_rows == 0
    assert query_table(table, TableQuery()).total == 3  # the table is still there


def test_a_value_that_looks_like_sql_matches_only_itself(table: ir.Table) -> None:
    page = query_table(table, TableQuery(filters={"country": "x' OR '1'='1"}))
    assert page.rows.column("orders").to_pylist() == [7]


@pytest.mark.parametrize(
    "column", ["country OR 1=1", "orders; DROP TABLE mart_probe", '"country"', "1", "-country"]
)
def test_filter_and_sort_names_must_be_real_columns(table: ir.Table, column: str) -> None:
    with pytest.raises(BadQuery, match="unknown column"):
        query_table(table, TableQuery(filters={column: "DE"}))
    with pytest.raises(BadQuery, match="unknown column"):
        query_table(table, TableQuery(sort=(f"-{column}",)))
