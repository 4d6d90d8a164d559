"""The warehouse catalog: every table and column with its type, meaning, classification and owner.

Meaning, classification and owner come from ``catalog.yaml``; types and lineage come from the transforms
themselves (:mod:`shopsight.warehouse.lineage`); KPI definitions come from
:data:`~shopsight.warehouse.transforms.kpis.METRICS`. :func:`catalog_problems` lists what the documentation
misses or names wrongly, and a unit test keeps that list empty.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from shopsight.entities.classification import Classification
from shopsight.warehouse.lineage import LineageNode, derive_lineage, related
from shopsight.warehouse.model import TABLES_BY_NAME
from shopsight.warehouse.transforms.kpis import METRICS, METRICS_BY_NAME, Metric

UNDOCUMENTED = "(undocumented)"
TABLE_KEYS = frozenset({"owner", "description", "classification", "columns", "metric_columns"})
COLUMN_KEYS = frozenset({"description", "classification"})
LEVELS = frozenset(level.value for level in Classification)


@dataclass(frozen=True)
class ColumnDoc:
    """One column: its Ibis type, what it means, how sensitive it is and who owns it."""

    name: str
    type: str
    description: str
    classification: Classification
    owner: str


@dataclass(frozen=True)
class TableDoc:
    """One table: layer, grain, owner, the tables it is built from and its columns."""

    name: str
    layer: str
    description: str
    owner: str
    key: tuple[str, ...]
    inputs: tuple[str, ...]
    columns: tuple[ColumnDoc, ...]


@dataclass(frozen=True)
class Catalog:
    """Every table (raw sources included) in build order and every KPI metric."""

    tables: tuple[TableDoc, ...]
    metrics: tuple[Metric, ...]
    lineage: tuple[LineageNode, ...]

    def table(self, name: str) -> TableDoc:
        """One table's documentation (KeyError when unknown)."""
        return {table.name: table for table in self.tables}[name]

    def around(self, name: str) -> Catalog:
        """Only ``name`` and the tables upstream and downstream of it."""
        nodes = related(self.lineage, name)
        names = {node.name for node in nodes}
        return Catalog(tuple(t for t in self.tables if t.name in names), self.metrics, nodes)


@cache
def load_docs() -> dict[str, Any]:
    """The parsed ``catalog.yaml`` shipped with the package."""
    text = resources.files("shopsight.warehouse").joinpath("catalog.yaml").read_text()
    docs: dict[str, Any] = yaml.safe_load(text)
    return docs


def _column_entry(raw: Any, default: str) -> tuple[str, str]:
    """(description, classification) of a column entry: a description, or a mapping of both."""
    if isinstance(raw, dict):
        return str(raw.get("description", "")), str(raw.get("classification", default))
    return ("" if raw is None else str(raw)), default


def _metric_doc(name: str) -> str | None:
    metric = METRICS_BY_NAME.get(name)
    return None if metric is None else f"{metric.description} [{formula(metric)}; {metric.unit}]"


def _column(node: LineageNode, name: str, doc: dict[str, Any]) -> ColumnDoc:
    default = str(doc.get("classification", Classification.INTERNAL.value))
    description, level = _column_entry(doc.get("columns", {}).get(name), default)
    if not description and doc.get("metric_columns"):
        description = _metric_doc(name) or ""
    owner = str(doc.get("owner", ""))
    dtype = str(node.schema[name])
    classification = Classification(level) if level in LEVELS else Classification.INTERNAL
    return ColumnDoc(name, dtype, description or UNDOCUMENTED, classification, owner)


def _table(node: LineageNode, doc: dict[str, Any]) -> TableDoc:
    spec = TABLES_BY_NAME.get(node.name)
    description = doc.get("description") or (spec.description if spec else UNDOCUMENTED)
    return TableDoc(
        name=node.name,
        layer=node.layer,
        description=str(description),
        owner=str(doc.get("owner", "")),
        key=spec.key if spec else (),
        inputs=node.inputs,
        columns=tuple(_column(node, name, doc) for name in node.schema.names),
    )


@cache
def build_catalog() -> Catalog:
    """The catalog of the current code: every source and built table, its columns and lineage."""
    nodes = derive_lineage()
    docs = load_docs()["tables"]
    tables = tuple(_table(node, docs.get(node.name, {})) for node in nodes)
    return Catalog(tables, METRICS, nodes)


def formula(metric: Metric) -> str:
    """How a metric is computed from the additive components of a period."""
    if metric.denominator is None:
        return f"sum({metric.numerator})"
    return f"sum({metric.numerator}) / sum({metric.denominator})"


def catalog_problems(catalog: Catalog | None = None, docs: dict[str, Any] | None = None) -> list[str]:
    """Everything the documentation misses or names wrongly (empty when the catalog is complete)."""
    catalog = catalog or build_catalog()
    docs = docs if docs is not None else load_docs()
    owners = set(docs.get("owners", []))
    built = {table.name for table in catalog.tables}
    problems = [f"{name}: documented but not built" for name in docs["tables"] if name not in built]
    for table in catalog.tables:
        problems += _table_problems(table, docs["tables"].get(table.name, {}), owners)
    return problems


def _table_problems(table: TableDoc, doc: dict[str, Any], owners: set[str]) -> list[str]:
    problems = [] if table.owner in owners else [f"{table.name}: owner {table.owner!r} is not a known team"]
    if table.description == UNDOCUMENTED:
        problems.append(f"{table.name}: no description")
    names = {column.name for column in table.columns}
    documented = doc.get("columns") or {}
    problems += [f"{table.name}.{name}: documented but not built" for name in documented if name not in names]
    problems += [f"{table.name}: unknown key {key!r}" for key in set(doc) - TABLE_KEYS]
    for name, raw in documented.items():
        problems += _entry_problems(f"{table.name}.{name}", raw, str(doc.get("classification", "internal")))
    problems += [
        f"{table.name}.{column.name}: no description"
        for column in table.columns
        if column.description == UNDOCUMENTED
    ]
    return problems


def _entry_problems(where: str, raw: Any, default: str) -> list[str]:
    """A column entry with unknown keys (an unquoted comma in a flow mapping makes one) or level."""
    extra = set(raw) - COLUMN_KEYS if isinstance(raw, dict) else set()
    problems = [f"{where}: unknown key {key!r}" for key in sorted(extra)]
    level = _column_entry(raw, default)[1]
    if level not in LEVELS:
        problems.append(f"{where}: unknown classification {level!r}")
    return problems


def catalog_json(catalog: Catalog) -> dict[str, Any]:
    """The whole catalog as plain data: tables with columns, lineage edges and metric definitions."""
    return {
        "tables": [asdict(table) for table in catalog.tables],
        "lineage": {
            "nodes": [{"name": node.name, "layer": node.layer} for node in catalog.lineage],
            "edges": [
                {"from": source, "to": node.name} for node in catalog.lineage for source in node.inputs
            ],
        },
        "metrics": [{**asdict(metric), "formula": formula(metric)} for metric in catalog.metrics],
    }
