"""Walks over entity models: the classification of every leaf path, and which paths are PII."""

from __future__ import annotations

import types
from functools import cache
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from shopsight.entities.classification import Classification, field_classification


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``M``, ``M | None`` or ``list[M]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, Union, types.UnionType):
        for arg in get_args(annotation):
            found = _nested_model(arg)
            if found is not None:
                return found
    return None


@cache
def classification_map(model: type[BaseModel]) -> dict[str, Classification]:
    """Every leaf path of ``model`` (``address.line1``, ``items.quantity``) and its classification.

    A nested model's own fields decide for its leaves, so an address's country stays usable while its
    street is PII.
    """
    paths: dict[str, Classification] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        nested = _nested_model(info.annotation)
        if nested is None:
            paths[key] = field_classification(model, name)
            continue
        for sub_path, level in classification_map(nested).items():
            paths[f"{key}.{sub_path}"] = level
    return paths


def paths_classified(model: type[BaseModel], level: Classification) -> frozenset[str]:
    """The leaf paths of one classification level."""
    return frozenset(path for path, found in classification_map(model).items() if found is level)


def pii_paths(model: type[BaseModel]) -> frozenset[str]:
    """Paths the edge encrypts under the record owner's data key."""
    return paths_classified(model, Classification.PII)
