"""Table-level lineage raw -> staging -> curated -> marts, read off the transforms' own Ibis expressions.

Every :class:`~shopsight.warehouse.model.TableSpec` is built on a context whose tables are unbound Ibis
tables, through an engine that only spells types (nothing runs). The unbound tables an expression
references are its inputs, and its schema is the table's column types, so neither can drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa

from shopsight.lake.layout import RAW_SCHEMA
from shopsight.warehouse import seeds
from shopsight.warehouse.context import BuildContext
from shopsight.warehouse.model import RAW_KINDS, TABLES
from shopsight.warehouse.pipeline import DATE_COLUMNS

LAYERS = ("raw", "seed", "staging", "curated", "mart")
CALENDAR = "dim_date"  # built in Python by the pipeline from the facts' date range


@dataclass(frozen=True)
class LineageNode:
    """One table of the warehouse or of the raw zone, with the tables it is built from."""

    name: str
    layer: str
    inputs: tuple[str, ...]
    schema: ibis.Schema


class _TypingEngine:
    """A WarehouseEngine that builds expressions and never runs them: enough to read inputs and types."""

    name = "lineage"
    con: ibis.BaseBackend

    def read_parquet(self, name: str, paths: list[str], schema: pa.Schema) -> ir.Table:
        return ibis.table(ibis.Schema.from_pyarrow(schema), name=name)

    def from_arrow(self, name: str, table: pa.Table) -> ir.Table:
        return ibis.table(ibis.Schema.from_pyarrow(table.schema), name=name)

    def write_parquet(self, expr: ir.Table, folder: Path) -> None:
        raise NotImplementedError("the lineage engine builds expressions only")

    def json_text(self, json: ir.StringValue, path: str) -> ir.StringValue:
        return json

    def json_columns(self, table: ir.Table, column: str, fields: dict[str, str]) -> ir.Table:
        return table.mutate(**{name: table[column] for name in fields})

    def json_array(self, json: ir.StringValue) -> ir.ArrayValue:
        return json.split(",")

    def local_time(self, ts: ir.TimestampValue, timezone: str) -> ir.TimestampValue:
        return ts.cast(dt.Timestamp())

    def close(self) -> None:
        """Nothing to release."""


def inputs_of(expr: ir.Table) -> tuple[str, ...]:
    """Names of the tables an expression reads (its unbound or database tables), sorted."""
    found = expr.op().find((ops.UnboundTable, ops.DatabaseTable))
    return tuple(sorted({node.name for node in found}))


def _sources(ctx: BuildContext) -> list[LineageNode]:
    """The raw zone's kinds and the FX seed, registered on ``ctx`` as unbound tables."""
    nodes = []
    for kind in RAW_KINDS:
        name = f"raw_{kind}"
        ctx.tables[name] = ctx.engine.read_parquet(name, [], RAW_SCHEMA)
        nodes.append(LineageNode(name, "raw", (), ctx.tables[name].schema()))
    ctx.tables["fx_rate"] = ctx.engine.from_arrow("fx_rate", seeds.FX_SCHEMA.empty_table())
    nodes.append(LineageNode("fx_rate", "seed", (), ctx.tables["fx_rate"].schema()))
    return nodes


def _calendar() -> LineageNode:
    schema = ibis.Schema.from_pyarrow(seeds.calendar(date(2024, 1, 1), date(2024, 1, 1)).schema)
    inputs = tuple(sorted({table for table, _column in DATE_COLUMNS}))
    return LineageNode(CALENDAR, "curated", inputs, schema)


def derive_lineage() -> tuple[LineageNode, ...]:
    """Every source and built table in build order, with its inputs and Ibis schema."""
    ctx = BuildContext(engine=_TypingEngine())
    nodes = _sources(ctx)
    for spec in TABLES:
        expr = spec.build(ctx)
        nodes.append(LineageNode(spec.name, spec.layer, inputs_of(expr), expr.schema()))
        ctx.tables[spec.name] = ibis.table(expr.schema(), name=spec.name)
    nodes.append(_calendar())
    return tuple(nodes)


def related(nodes: tuple[LineageNode, ...], name: str) -> tuple[LineageNode, ...]:
    """``name`` with everything upstream and downstream of it, in build order."""
    upstream = _closure(name, {node.name: set(node.inputs) for node in nodes})
    consumers: dict[str, set[str]] = {node.name: set() for node in nodes}
    for node in nodes:
        for source in node.inputs:
            consumers[source].add(node.name)
    keep = upstream | _closure(name, consumers)
    return tuple(node for node in nodes if node.name in keep)


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for other in edges.get(todo.pop(), set()) - seen:
            seen.add(other)
            todo.append(other)
    return seen


def mermaid(nodes: tuple[LineageNode, ...]) -> str:
    """A Mermaid ``flowchart LR``: one subgraph per layer, one arrow per input."""
    lines = ["flowchart LR"]
    for layer in LAYERS:
        members = [node for node in nodes if node.layer == layer]
        if members:
            lines.append(f"  subgraph {layer}")
            lines += [f"    {_shape(node)}" for node in members]
            lines.append("  end")
    names = {node.name for node in nodes}
    lines += [f"  {source} --> {node.name}" for node in nodes for source in node.inputs if source in names]
    return "\n".join(lines) + "\n"


def _shape(node: LineageNode) -> str:
    if node.layer in ("raw", "seed"):
        return f"{node.name}[({node.name})]"
    return f"{node.name}[[{node.name}]]" if node.layer == "mart" else f"{node.name}[{node.name}]"
