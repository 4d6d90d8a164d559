"""Published JSON Schemas of every event and entity, with each field's classification.

``shopsight schemas export`` writes them; the copies under ``schemas/`` in the repository are checked
against these in the tests, so a model change without a version bump or an export does not land.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shopsight.entities.classification import SCHEMA_KEY
from shopsight.entities.models import ENTITY_MODELS, ENTITY_SCHEMA_VERSION
from shopsight.events.classification import classify_event_path
from shopsight.events.ecommerce import ECOMMERCE_EVENTS
from shopsight.events.model import MODELS, SCHEMA_VERSION, TrackEvent
from shopsight.lake.layout import slug

BASE_URI = "https://shopsight.dev/schemas/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]


def all_schemas() -> dict[str, Schema]:
    """Every published schema by its relative path, e.g. ``entities/order.v1.json``."""
    schemas: dict[str, Schema] = {}
    for kind, model in ENTITY_MODELS.items():
        path = f"entities/{kind.value}.v{ENTITY_SCHEMA_VERSION}.json"
        schemas[path] = _published(model.model_json_schema(by_alias=True), path, ENTITY_SCHEMA_VERSION)
    for call, call_model in MODELS.items():
        path = f"events/{call}.v{SCHEMA_VERSION}.json"
        schemas[path] = _event_schema(call_model, path)
    for name, properties_model in ECOMMERCE_EVENTS.items():
        path = f"events/ecommerce/{slug(name)}.v{SCHEMA_VERSION}.json"
        schemas[path] = _ecommerce_schema(name, properties_model, path)
    return schemas


# Traits and properties are open objects: these rules classify the keys a schema cannot list.
EVENT_CLASSIFICATION_RULES = {
    "traits.<email|phone|name|first_name|last_name|address|city|postal_code|birthday|username>": "pii",
    "context.traits.<same keys as traits>": "pii",
    "context.ip": "pii",
    "properties.<email|phone|recipient>": "pii",
    "<any path with card_number|card|pan|cvv|cvc|security_code>": "payment",
    "<everything else>": "internal",
}


def _published(schema: Schema, path: str, version: int) -> Schema:
    return {"$schema": DRAFT, "$id": BASE_URI + path, "x-schema-version": version, **schema}


def _event_schema(model: type[BaseModel], path: str) -> Schema:
    schema = model.model_json_schema(by_alias=True)
    _classify_event(schema, schema, "")
    schema["x-classification-rules"] = EVENT_CLASSIFICATION_RULES
    return _published(schema, path, SCHEMA_VERSION)


def _ecommerce_schema(name: str, properties_model: type[BaseModel], path: str) -> Schema:
    schema = TrackEvent.model_json_schema(by_alias=True)
    properties_schema = properties_model.model_json_schema(by_alias=True)
    schema.setdefault("$defs", {}).update(properties_schema.pop("$defs", {}))
    schema["title"] = name
    schema["description"] = f'Segment V2 e-commerce event "{name}" (unknown properties are kept).'
    schema["properties"]["event"] = {"const": name, "title": "Event"}
    schema["properties"]["properties"] = properties_schema
    schema["required"] = sorted({*schema.get("required", []), "event"})
    _classify_event(schema, schema, "")
    schema["x-classification-rules"] = EVENT_CLASSIFICATION_RULES
    return _published(schema, path, SCHEMA_VERSION)


def _classify_event(node: Schema, root: Schema, prefix: str, seen: set[int] | None = None) -> None:
    """Add ``x-classification`` to every named property, following ``$ref`` into ``$defs`` once."""
    seen = set() if seen is None else seen
    for key, sub in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        sub[SCHEMA_KEY] = classify_event_path(path).value
        for child in _object_schemas(sub, root, seen):
            _classify_event(child, root, path, seen)


def _object_schemas(sub: Schema, root: Schema, seen: set[int]) -> list[Schema]:
    """The object schemas reachable from ``sub`` through ``items``, ``anyOf`` and ``$ref``."""
    found: list[Schema] = []
    for candidate in (sub, sub.get("items"), *sub.get("anyOf", [])):
        if not isinstance(candidate, dict):
            continue
        ref = candidate.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = root["$defs"][ref.removeprefix("#/$defs/")]
            if id(target) not in seen:
                seen.add(id(target))
                found.append(target)
        elif "properties" in candidate:
            found.append(candidate)
        elif candidate is not sub and isinstance(candidate.get("items"), dict):
            found.extend(_object_schemas({"items": candidate["items"]}, root, seen))
    return found
