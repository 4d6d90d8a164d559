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
    return math.isclose(a, b, rel_tol=relative, abs_tol=relative) or (math.isnan(a) and math.isnan(b))


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
    """Value by value, rows matched on the key; floats within ``relative``; the first differing row each."""
    order = [(column, "ascending") for column in key]
    left, right = left.sort_by(order), right.sort_by(order)
    problems = []
    for column in left.column_names:
        a, b = left.column(column), right.column(column)
        index = _first_difference(a, b, relative)
        if index is not None:
            problems.append(f"{column}: row {index} {a[index].as_py()!r} != {b[index].as_py()!r}")
    return problems


def _first_difference(a: pa.ChunkedArray, b: pa.ChunkedArray, relative: float) -> int | None:
    """The first row where two aligned columns differ (null only matches null), or None."""
    same = _same_values(a, b, relative)
    if same is None:
        return _first_difference_in_python(a, b, relative)
    matched = pc.or_(pc.and_(a.is_null(), b.is_null()), pc.fill_null(same, False))
    index = pc.index(matched, False).as_py()
    return None if index < 0 else int(index)


def _same_values(a: pa.ChunkedArray, b: pa.ChunkedArray, relative: float) -> pa.ChunkedArray | None:
    """Elementwise equality, null where either side is null; None where Arrow cannot compare the two
    (the engines typed the column differently, or a nested type, which has no compute kernel)."""
    if a.type != b.type:
        return None
    if pa.types.is_floating(a.type):
        # math.isclose: |a - b| <= max(relative * max(|a|, |b|), relative); equal infinities and NaN == NaN
        scale = pc.max_element_wise(pc.abs(a), pc.abs(b))
        tolerance = pc.max_element_wise(pc.multiply(scale, relative), relative)
        close = pc.less_equal(pc.abs(pc.subtract(a, b)), tolerance)
        return pc.or_(pc.or_(close, pc.equal(a, b)), pc.and_(pc.is_nan(a), pc.is_nan(b)))
    try:
        return pc.equal(a, b)
    except pa.ArrowNotImplementedError:
        return None


def _first_difference_in_python(a: pa.ChunkedArray, b: pa.ChunkedArray, relative: float) -> int | None:
    """The same test value by value (slow: only for what Arrow cannot compare)."""
    floating = pa.types.is_floating(a.type)
    for index, (x, y) in enumerate(zip(a.to_pylist(), b.to_pylist(), strict=True)):
        same = (x is None and y is None) or (
            x is not None and y is not None and (_close(x, y, relative) if floating else x == y)
        )
        if not same:
            return index
    return None
