"""The small interface a warehouse engine implements. Transforms see only this and Ibis expressions.

Adapters supply engine primitives (reading and writing Parquet, JSON extraction, time zones); every piece
of business logic lives in :mod:`shopsight.warehouse.transforms` and runs unchanged on each engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import ibis
import ibis.expr.types as ir
import pyarrow as pa


@runtime_checkable
class WarehouseEngine(Protocol):
    """An Ibis backend plus the few primitives whose spelling differs between engines."""

    name: str
    con: ibis.BaseBackend

    def read_parquet(self, name: str, paths: list[str], schema: pa.Schema) -> ir.Table:
        """Register the Parquet files as table ``name``; an empty list gives an empty table of ``schema``."""
        ...

    def from_arrow(self, name: str, table: pa.Table) -> ir.Table:
        """Register a small in-memory table (seeds, calendars) as ``name``."""
        ...

    def write_parquet(self, expr: ir.Table, folder: Path) -> None:
        """Materialize ``expr`` as Parquet file(s) directly inside ``folder`` (created, must not exist)."""
        ...

    def json_text(self, json: ir.StringValue, path: str) -> ir.StringValue:
        """The value at JSONPath ``path`` as text (objects and arrays as JSON text; NULL when absent)."""
        ...

    def json_columns(self, table: ir.Table, column: str, fields: dict[str, str]) -> ir.Table:
        """``table`` plus one text column per ``name -> JSONPath`` of its JSON column (as json_text does).

        The batch form lets an engine parse each document once instead of once per field.
        """
        ...

    def json_array(self, json: ir.StringValue) -> ir.ArrayValue:
        """A JSON array's elements, each as JSON text (NULL when not an array)."""
        ...

    def local_time(self, ts: ir.TimestampValue, timezone: str) -> ir.TimestampValue:
        """Wall-clock time in ``timezone`` of a UTC instant (as a naive timestamp)."""
        ...

    def close(self) -> None:
        """Release the engine."""
        ...
