"""Compare two builds of the warehouse table by table (engine parity, incremental vs full refresh)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shopsight.warehouse.model import TABLES_BY_NAME

DIM_DATE_KEY = ("date",)


@dataclass
class TableDiff:
    """Differences found in one table (empty lists: equal)."""

    table: str
    rows: tuple[int, int]
    problems: list[str] = field(default_factory=list)


def read_table(files: list[str]) -> pa.Table:
    """All files of one table version as one Arrow table."""
    return pa.concat_tables([pq.read_table(f) for f in files]) if files else pa.table({})


def _key(table: pa.Table, columns: tuple[str, ...]) -> set[tuple[object, ...]]:
    return set(zip(*(table.column(c).to_pylist() for c in columns), strict=True))


def _close(a: float, b: float, relative: float) -> bool:
    return math.isclose(a, b, rel_tol=relative, abs_tol=relative)


def compare_tables(name: str, left: pa.Table, right: pa.Table, relative: float = 1e-9) -> TableDiff:
    """Row counts, key sets, numeric sums (within ``relative``) and non-null counts of every column."""
    diff = TableDiff(name, (left.num_rows, right.num_rows))
    if left.num_rows != right.num_rows:
        diff.problems.append(f"row count {left.num_rows} != {right.num_rows}")
    if set(left.column_names) != set(right.column_names):
        diff.problems.append(f"columns differ: {sorted(set(left.column_names) ^ set(right.column_names))}")
        return diff
    key = TABLES_BY_NAME[name].key if name in TABLES_BY_NAME else DIM_DATE_KEY
    if _key(left, key) != _key(right, key):
        diff.problems.append(f"key sets differ on {key}")
    for column in left.column_names:
        a, b = left.column(column), right.column(column)
        if a.null_count != b.null_count:
            diff.problems.append(f"{column}: {a.null_count} nulls != {b.null_count}")
        if pa.types.is_integer(a.type) or pa.types.is_floating(a.type) or pa.types.is_decimal(a.type):
            sum_a = pc.sum(a.cast(pa.float64())).as_py() or 0.0
            sum_b = pc.sum(b.cast(pa.float64())).as_py() or 0.0
            if not _close(sum_a, sum_b, relative):
                diff.problems.append(f"{column}: sum {sum_a!r} != {sum_b!r}")
    if not diff.problems:
        diff.problems.extend(_row_differences(left, right, key, relative))
    return diff


def _row_differences(left: pa.Table, right: pa.Table, key: tuple[str, ...], relative: float) -> list[str]:
    """Value by value, rows matched on the key; floats within ``relative``."""
    order = [(column, "ascending") for column in key]
    left, right = left.sort_by(order), right.sort_by(order)
    problems = []
    for column in left.column_names:
        a, b = left.column(column).to_pylist(), right.column(column).to_pylist()
        floating = pa.types.is_floating(left.column(column).type)
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            same = (x is None and y is None) or (
                x is not None and y is not None and (_close(x, y, relative) if floating else x == y)
            )
            if not same:
                problems.append(f"{column}: row {index} {x!r} != {y!r}")
                break
    return problems
