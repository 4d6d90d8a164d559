"""Apply a mapping's field specs and rules to one row: coercion, templates, cases, conditions."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from shopsight.importer.mapping import Condition, FieldSpec, FieldTree, Rule, ValueType

_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")
_INTEGRAL_FLOAT = re.compile(r"^-?\d+\.0*$")
_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n"}


class RowProblem(Exception):
    """Why a row cannot become a record; the reason lands in the dead-letter store."""


class RowContext:
    """A row's cells plus the pseudo-columns ``_line`` and ``_file``."""

    def __init__(self, values: dict[str, Any], *, number: int, file_name: str) -> None:
        self.values = values
        self.number = number
        self.file_name = file_name

    def cell(self, column: str) -> Any:
        """The raw cell, or the pseudo-column value."""
        if column == "_line":
            return self.number
        if column == "_file":
            return self.file_name
        try:
            return self.values[column]
        except KeyError:
            raise RowProblem(f"column {column!r} is missing") from None


def render(template: str, row: RowContext) -> str:
    """Fill ``{column}`` placeholders; integral floats print as integers (ids read as floats)."""
    return _TEMPLATE_FIELD.sub(lambda m: _as_id(row.cell(m.group(1))), template)


def _as_id(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text[: text.index(".")] if _INTEGRAL_FLOAT.match(text) else text


def _is_null(value: Any, nulls: tuple[str, ...]) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in nulls)


def evaluate(spec: FieldSpec, row: RowContext, target: str) -> Any:
    """The value of one target field for a row (``None`` when the cell is null)."""
    if spec.value is not None:
        return spec.value
    raw = render(spec.template, row) if spec.template is not None else None
    if spec.column is not None:
        raw = row.cell(spec.column)
    if _is_null(raw, spec.nulls):
        return spec.default
    if spec.cases:
        return _case(spec, raw)
    try:
        value = coerce(raw, spec)
    except (ValueError, TypeError, OverflowError) as exc:
        source = spec.column or spec.template
        raise RowProblem(f"{target}: cannot read {raw!r} from {source} as {spec.type.value}: {exc}") from None
    if spec.multiply is not None:
        value *= spec.multiply
    if spec.divide_by is not None:
        value = _per_unit(value, row.cell(spec.divide_by), spec.divide_by)
    return value


def _per_unit(total: Any, units: Any, column: str) -> float:
    try:
        divisor = float(units)
    except (TypeError, ValueError):
        raise RowProblem(f"cannot divide by {column}={units!r}: not a number") from None
    if divisor == 0:
        raise RowProblem(f"cannot divide by {column}: it is 0")
    return round(float(total) / divisor, 6)


def _case(spec: FieldSpec, raw: Any) -> Any:
    text = str(raw)
    for case in spec.cases:
        if case.matches is not None and re.search(case.matches, text):
            return case.value
        if case.equals is not None and text == str(case.equals):
            return case.value
    return spec.default


def coerce(raw: Any, spec: FieldSpec) -> Any:
    """Convert a cell to the spec's type (JSON and Parquet cells may already be typed)."""
    kind = spec.type
    if kind is ValueType.STR:
        return raw.strip() if isinstance(raw, str) else str(raw)
    if kind is ValueType.ID:
        return _as_id(raw)
    if kind is ValueType.INT:
        return _int(raw)
    if kind is ValueType.FLOAT:
        return float(raw)
    if kind is ValueType.BOOL:
        return _bool(raw)
    if kind is ValueType.DATETIME:
        return _datetime(raw, spec.format, spec.unit, spec.timezone)
    if kind is ValueType.DATE:
        return _date(raw, spec.format)
    return orjson.loads(raw) if isinstance(raw, str | bytes) else raw


def _int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("a boolean is not an integer")
    if isinstance(raw, int):
        return raw
    number = float(raw)
    if not number.is_integer():
        raise ValueError("not a whole number")
    return int(number)


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true/false, yes/no or 1/0")


def _datetime(raw: Any, fmt: str | None, unit: str | None, zone: str | None) -> datetime:
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=_zone(zone))
    if unit is not None:
        scale = {"s": 1, "ms": 1_000, "us": 1_000_000}[unit]
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=float(raw) / scale)
    return _parse_datetime(str(raw).strip(), fmt, zone)


@lru_cache(maxsize=65_536)
def _parse_datetime(text: str, fmt: str | None, zone: str | None) -> datetime:
    """Cached: order lines of one invoice share a timestamp, so few strings are distinct."""
    parsed = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_zone(zone))
    return parsed.astimezone(UTC)


@lru_cache(maxsize=64)
def _zone(name: str | None) -> ZoneInfo | Any:
    return UTC if name is None else ZoneInfo(name)


def _date(raw: Any, fmt: str | None) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    return datetime.strptime(text, fmt).date() if fmt else date.fromisoformat(text)


def build(tree: FieldTree, row: RowContext, prefix: str = "") -> dict[str, Any]:
    """The nested record a field tree describes; ``name[]`` sub-trees become one-element lists."""
    out: dict[str, Any] = {}
    for name, node in tree.items():
        target = f"{prefix}{name}"
        if isinstance(node, FieldSpec):
            value = evaluate(node, row, target)
            if value is not None:
                _assign(out, name, value)
        elif name.endswith("[]"):
            out[name.removesuffix("[]")] = [build(node, row, f"{target.removesuffix('[]')}.")]
        else:
            nested = build(node, row, f"{target}.")
            if nested:
                out[name] = nested
    return out


def _assign(out: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = out
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def holds(condition: Condition, row: RowContext) -> bool:
    """Whether a rule's condition is true for the row."""
    raw = row.cell(condition.column)
    empty = _is_null(raw, ("",)) or (isinstance(raw, float) and raw != raw)
    if condition.empty is not None:
        return empty is condition.empty
    if empty:
        return False
    if condition.matches is not None:
        return re.search(condition.matches, str(raw)) is not None
    if condition.equals is not None:
        return _equal(raw, condition.equals)
    return _compare(raw, condition)


def _equal(raw: Any, expected: Any) -> bool:
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        try:
            return float(raw) == float(expected)
        except (TypeError, ValueError):
            return False
    return str(raw).strip() == str(expected)


def _compare(raw: Any, condition: Condition) -> bool:
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return False
    checks = (
        (condition.lt, number.__lt__), (condition.le, number.__le__),
        (condition.gt, number.__gt__), (condition.ge, number.__ge__),
    )  # fmt: skip
    active = [(bound, test) for bound, test in checks if bound is not None]
    return bool(active) and all(test(bound) for bound, test in active)


def first_rule(rules: tuple[Rule, ...], row: RowContext) -> Rule | None:
    """The first rule whose condition holds, if any."""
    for rule in rules:
        if holds(rule.when, row):
            return rule
    return None
