"""The table comparison behind the engine-parity and incremental tests finds every kind of difference.

Most cases keep row counts, key sets, null counts and sums equal (two rows swap a value), so only the
value-by-value pass can see them: a comparator that missed them would let those tests pass on a wrong build.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from shopsight.warehouse.compare import compare_tables

TABLE = "fact_order"  # key: order_id


def _orders(**changes: list[Any]) -> pa.Table:
    columns: dict[str, list[Any]] = {
        "order_id": ["o1", "o2", "o3", "o4"],
        "items": [1, 2, 3, 4],
        "revenue": [10.5, 20.25, 30.0, 1e12],
        "channel": ["web", "app", None, "web"],
        "placed_at": [datetime(2011, 12, day, tzinfo=UTC) for day in (1, 2, 3, 4)],
        "tags": [["a"], [], ["b", "c"], None],
    }
    return pa.table({**columns, **changes})


def _problems(left: pa.Table, right: pa.Table) -> list[str]:
    return compare_tables(TABLE, left, right, relative=1e-9).problems


def test_equal_tables_in_another_row_order_compare_equal() -> None:
    shuffled = _orders().take([3, 1, 0, 2])
    assert _problems(_orders(), shuffled) == []


@pytest.mark.parametrize(
    ("column", "swapped", "expected"),
    [
        ("items", [2, 1, 3, 4], "items: row 0 1 != 2"),
        ("revenue", [20.25, 10.5, 30.0, 1e12], "revenue: row 0 10.5 != 20.25"),
        ("channel", ["web", None, "app", "web"], "channel: row 1 'app' != None"),
        ("placed_at", [datetime(2011, 12, d, tzinfo=UTC) for d in (1, 2, 4, 3)], "placed_at: row 2"),
        ("tags", [["a"], ["b", "c"], [], None], "tags: row 1 [] != ['b', 'c']"),
    ],
)
def test_a_value_moved_to_another_row_is_found(column: str, swapped: list[Any], expected: str) -> None:
    """Same sums, counts and nulls: only the row-by-row pass can tell."""
    problems = _problems(_orders(), _orders(**{column: swapped}))
    assert len(problems) == 1
    assert problems[0].startswith(expected)


def test_floats_match_within_the_relative_tolerance_and_not_beyond() -> None:
    near = [10.5, 20.25, 30.0, 1e12 + 1.0]  # 1e-12 relative
    assert _problems(_orders(), _orders(revenue=near)) == []
    # A difference that keeps the sum (within tolerance) but not the rows: +x on one row, -x on another.
    moved = [10.5 + 0.001, 20.25 - 0.001, 30.0, 1e12]
    assert _problems(_orders(), _orders(revenue=moved)) == ["revenue: row 0 10.5 != 10.501"]


def test_nan_matches_nan_and_nothing_else() -> None:
    nan = float("nan")
    assert _problems(_orders(revenue=[nan, 1.0, 2.0, 3.0]), _orders(revenue=[nan, 1.0, 2.0, 3.0])) == []
    assert _problems(_orders(revenue=[nan, 1.0, 2.0, 3.0]), _orders(revenue=[1.0, nan, 2.0, 3.0]))


def test_columns_the_engines_typed_differently_compare_by_value() -> None:
    narrow = pa.array([1, 2, 3, 4], pa.int32())
    assert _problems(_orders(), _orders().set_column(1, "items", narrow)) == []
    swapped = pa.array([2, 1, 3, 4], pa.int32())
    assert _problems(_orders(), _orders().set_column(1, "items", swapped)) == ["items: row 0 1 != 2"]


@pytest.mark.parametrize(
    ("right", "expected"),
    [
        (_orders().slice(0, 3), "row count 4 != 3"),
        (_orders(order_id=["o1", "o2", "o3", "o5"]), "key sets differ on ('order_id',)"),
        (_orders().drop_columns(["tags"]), "columns differ: ['tags']"),
        (_orders(channel=["web", "app", "web", "web"]), "channel: 1 nulls != 0"),
        (_orders(items=[1, 2, 3, 5]), "items: sum 10.0 != 11.0"),
    ],
)
def test_table_level_differences_are_named(right: pa.Table, expected: str) -> None:
    assert expected in _problems(_orders(), right)
