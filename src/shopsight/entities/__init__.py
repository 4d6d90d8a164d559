"""Store entities (customer, product, order...) with per-field classification."""

from shopsight.entities.classification import Classification
from shopsight.entities.fields import classification_map, pii_paths
from shopsight.entities.models import ENTITY_MODELS, ENTITY_SCHEMA_VERSION, Entity

__all__ = [
    "ENTITY_MODELS",
    "ENTITY_SCHEMA_VERSION",
    "Classification",
    "Entity",
    "classification_map",
    "pii_paths",
]
