"""OpenAPI request bodies for the collector, generated from the event models."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from shopsight.events.model import (
    AliasEvent,
    GroupEvent,
    IdentifyEvent,
    PageEvent,
    ScreenEvent,
    TrackEvent,
)

_MODELS: dict[str, type[BaseModel]] = {
    "track": TrackEvent,
    "identify": IdentifyEvent,
    "page": PageEvent,
    "screen": ScreenEvent,
    "alias": AliasEvent,
    "group": GroupEvent,
}


@cache
def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with ``$defs`` references inlined (OpenAPI has no local ``$defs``)."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    definitions = schema.pop("$defs", {})
    return _resolve(schema, definitions, depth=0)  # type: ignore[no-any-return]


def _resolve(node: Any, definitions: dict[str, Any], depth: int) -> Any:
    if isinstance(node, list):
        return [_resolve(item, definitions, depth) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        if depth > 8:  # recursive models: stop expanding, accept any object
            return {"type": "object"}
        return _resolve(definitions[ref.removeprefix("#/$defs/")], definitions, depth + 1)
    return {key: _resolve(value, definitions, depth) for key, value in node.items()}


def request_body_schema(endpoint: str) -> dict[str, Any]:
    """The ``requestBody`` object for one collector endpoint."""
    if endpoint in _MODELS:
        schema = _inline_schema(_MODELS[endpoint])
    else:
        items = [_with_type(name, _inline_schema(model)) for name, model in _MODELS.items()]
        schema = {
            "type": "object",
            "required": ["batch"],
            "properties": {"batch": {"type": "array", "items": {"oneOf": items}}},
        }
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _with_type(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    properties = dict(schema.get("properties", {}))
    properties["type"] = {"type": "string", "enum": [name]}
    required = sorted({*schema.get("required", []), "type"})
    return {**schema, "properties": properties, "required": required}
