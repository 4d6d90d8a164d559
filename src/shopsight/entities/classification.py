"""Data classification: every field of every entity and event says how sensitive it is.

Later layers act on it: the edge encrypts ``pii`` and tokenizes ``payment``, the access layer masks by
role, the catalog documents it. The level travels in the JSON Schema as ``x-classification``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

SCHEMA_KEY = "x-classification"


class Classification(StrEnum):
    """How sensitive a field is, least to most."""

    PUBLIC = "public"  # shown on the storefront (product titles, list prices)
    INTERNAL = "internal"  # business data, not about a person (order totals, stock levels, ids)
    PII = "pii"  # identifies a person: encrypted per customer at the edge
    PAYMENT = "payment"  # card data: tokenized at the edge, CVVs dropped (PCI DSS)


def classified(level: Classification, description: str, default: Any = ..., **constraints: Any) -> Any:
    """A pydantic ``Field`` that carries its classification into the model and its JSON Schema."""
    return Field(default, description=description, json_schema_extra={SCHEMA_KEY: level.value}, **constraints)


def field_classification(model: type[BaseModel], name: str) -> Classification:
    """The classification declared on one field (``KeyError`` when the field declares none)."""
    extra = model.model_fields[name].json_schema_extra
    if not isinstance(extra, dict) or SCHEMA_KEY not in extra:
        raise KeyError(f"{model.__name__}.{name} has no classification")
    return Classification(str(extra[SCHEMA_KEY]))
