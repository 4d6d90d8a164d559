"""Declarative column mappings (YAML): how a file's rows become events or store entities.

A mapping names the file format, row-level rejection rules, and one or more record specs. Each record
spec builds one entity (or a Segment event) per row, or per group of rows (``group_by``), from field
specs such as ``{column: InvoiceDate, type: datetime, format: "%Y-%m-%d %H:%M:%S"}``.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shopsight.errors import ConfigError

DEFAULT_NULLS = ("", "NA", "N/A", "NaN", "nan", "NULL", "null", "None")


class FileFormat(StrEnum):
    """Supported file formats; gzip is recognised by the ``.gz`` suffix."""

    CSV = "csv"
    TSV = "tsv"
    WHITESPACE = "whitespace"  # columns separated by runs of spaces (fixed-width-ish text dumps)
    JSON = "json"  # one array of objects
    NDJSON = "ndjson"
    PARQUET = "parquet"


class ValueType(StrEnum):
    """Types a text cell is coerced to."""

    STR = "str"
    ID = "id"  # like str, but "17850.0" (a number that went through a float) becomes "17850"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATETIME = "datetime"
    DATE = "date"
    JSON = "json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Case(_Strict):
    """``value`` when the cell matches ``matches`` (regex) or equals ``equals``."""

    matches: str | None = None
    equals: Any = None
    value: Any


class FieldSpec(_Strict):
    """Where one target field's value comes from and how it is coerced."""

    column: str | None = None
    value: Any = None  # a constant
    template: str | None = None  # "{A}-{B}" over the row's columns and _line / _file
    type: ValueType = ValueType.STR
    format: str | None = None  # strptime format for datetime / date
    unit: Literal["s", "ms", "us"] | None = None  # epoch numbers for datetime
    timezone: str | None = None  # zone of naive datetimes (default UTC)
    nulls: tuple[str, ...] = DEFAULT_NULLS
    cases: tuple[Case, ...] = ()
    default: Any = None  # when the cell is null, or no case matched
    multiply: float | None = None  # unit conversion, e.g. cents -> currency
    divide_by: str | None = None  # a column: per-unit values from totals (dollars / units)

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        sources = [self.column is not None, self.value is not None, self.template is not None]
        if sum(sources) > 1:
            raise ValueError("give one of column, value or template")
        if not any(sources) and self.default is None:
            raise ValueError("give column, value, template or default")
        return self


class Condition(_Strict):
    """A test on one cell: empty, regex match, equality or a numeric comparison."""

    column: str
    empty: bool | None = None
    matches: str | None = None
    equals: Any = None
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None


class Rule(_Strict):
    """When ``when`` holds for a row, the row (or record) is set aside with ``reason``."""

    when: Condition
    reason: str = Field(min_length=1)


FieldTree = dict[str, "FieldSpec | FieldTree"]


class RecordSpec(_Strict):
    """One record built per row, or per group of rows."""

    kind: str = Field(description="An entity kind (customer, order...) or 'event'.")
    key: str | None = Field(default=None, description="Template of the record's natural key.")
    group_by: str | None = Field(default=None, description="Template: rows with one value make one record.")
    skip: tuple[Rule, ...] = ()
    fields: dict[str, Any] = Field(default_factory=dict)
    passthrough: bool = Field(default=False, description="Use the row's own fields unchanged.")

    @model_validator(mode="after")
    def _fields_or_passthrough(self) -> RecordSpec:
        if not self.fields and not self.passthrough:
            raise ValueError("a record needs fields, or passthrough: true")
        return self

    def field_tree(self) -> FieldTree:
        """``fields`` with every leaf parsed into a :class:`FieldSpec` (shorthand: a column name)."""
        return _parse_tree(self.fields, "fields")


class Mapping(_Strict):
    """A whole mapping file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    format: FileFormat | None = None
    encoding: str = "utf-8"
    header: bool = True
    columns: tuple[str, ...] = ()
    delimiter: str | None = None
    quoting: bool = True
    reject: tuple[Rule, ...] = ()
    records: tuple[RecordSpec, ...] = Field(min_length=1)
    decisions: dict[str, str] = Field(default_factory=dict, description="What dirty rows become, and why.")

    @model_validator(mode="after")
    def _columns_when_no_header(self) -> Mapping:
        if (
            not self.header
            and not self.columns
            and self.format not in (None, FileFormat.JSON, FileFormat.NDJSON, FileFormat.PARQUET)
        ):
            raise ValueError("header: false needs columns: [...]")  # fmt: skip
        return self


def _parse_tree(node: dict[str, Any], where: str) -> FieldTree:
    tree: FieldTree = {}
    for name, spec in node.items():
        if isinstance(spec, str):
            tree[name] = FieldSpec(column=spec)
        elif isinstance(spec, dict) and (name.endswith("[]") or not _looks_like_spec(spec)):
            tree[name] = _parse_tree(spec, f"{where}.{name}")
        elif isinstance(spec, dict):
            try:
                tree[name] = FieldSpec.model_validate(spec)
            except ValidationError as exc:
                raise ConfigError(f"mapping {where}.{name}: {_first_error(exc)}") from None
        else:
            raise ConfigError(f"mapping {where}.{name}: expected a column name or a field spec")
    return tree


def _looks_like_spec(spec: dict[str, Any]) -> bool:
    return bool(set(spec) & {"column", "value", "template", "default"})


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"])
    return f"{location}: {error['msg']}" if location else str(error["msg"])


def builtin_mapping_names() -> list[str]:
    """Names of the mappings shipped with ShopSight."""
    folder = resources.files("shopsight.importer") / "mappings"
    return sorted(
        entry.name.removesuffix(".yaml") for entry in folder.iterdir() if entry.name.endswith(".yaml")
    )


def load_mapping(name_or_path: str) -> Mapping:
    """A shipped mapping by name (``online-retail``), or a YAML file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ConfigError(f"mapping file {path} does not exist")
        text = path.read_text(encoding="utf-8")
    else:
        resource = resources.files("shopsight.importer") / "mappings" / f"{name_or_path}.yaml"
        if not resource.is_file():
            names = ", ".join(builtin_mapping_names())
            raise ConfigError(f"no mapping named {name_or_path!r}; shipped mappings: {names}")
        text = resource.read_text(encoding="utf-8")
    return parse_mapping(text, origin=name_or_path)


def parse_mapping(text: str, *, origin: str = "<mapping>") -> Mapping:
    """Validate mapping YAML; problems become a one-line :class:`ConfigError`."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"mapping {origin}: invalid YAML: {exc}") from None
    try:
        mapping = Mapping.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(f"mapping {origin}: {_first_error(exc)}") from None
    for record in mapping.records:
        record.field_tree()  # parse leaves now, so a bad field spec fails before any row is read
    return mapping
