"""The masking matrix: role x resource x field -> strategy, read from ``masking.yaml`` and checked on load."""

from __future__ import annotations

from enum import StrEnum
from itertools import product
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shopsight.entities.classification import Classification
from shopsight.errors import ConfigError
from shopsight.security.policy.principal import Resource, Role
from shopsight.security.policy.shipped import shipped_text

OTHER_FIELDS = "(other fields)"  # how the doc names a resource's undeclared fields


class Strategy(StrEnum):
    """What a role sees of a field (``masking.yaml`` explains each)."""

    CLEAR = "clear"
    MASKED = "masked"
    PSEUDONYMIZED = "pseudonymized"
    LAST4 = "last4"
    HIDDEN = "hidden"
    AGGREGATE_ONLY = "aggregate_only"

    @property
    def in_rows(self) -> bool:
        """Whether row-level output carries the field at all."""
        return self not in (Strategy.HIDDEN, Strategy.AGGREGATE_ONLY)


class MaskFormat(StrEnum):
    """How ``masked`` renders a field."""

    EMAIL = "email"
    PHONE = "phone"
    NAME = "name"
    TEXT = "text"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldSpec(_Spec):
    """One declared field: its classification, masked format and per-role exceptions to the defaults."""

    classification: Classification
    format: MaskFormat = MaskFormat.TEXT
    rules: dict[Role | Literal["all"], Strategy] = Field(default_factory=dict)

    def rule_for(self, role: Role) -> Strategy | None:
        """The field's own rule for the role (``all`` when the role has none), if any."""
        return self.rules.get(role, self.rules.get("all"))


class ResourceSpec(_Spec):
    """The fields of one resource; ``subject`` names the field holding the customer a record is about."""

    subject: str | None = None
    other_fields: Classification
    fields: dict[str, FieldSpec] = Field(default_factory=dict)

    def field(self, path: str) -> FieldSpec:
        """The spec of a (dotted) path: its longest declared suffix, else the undeclared-field spec."""
        parts = path.split(".")
        for start in range(len(parts)):
            found = self.fields.get(".".join(parts[start:]))
            if found is not None:
                return found
        return FieldSpec(classification=self.other_fields)


class MaskingMatrix(_Spec):
    """Purposes and roles allowed to reveal PII, role defaults per classification, and every resource."""

    purposes: frozenset[str] = Field(min_length=1)
    reveal_roles: frozenset[Role]
    defaults: dict[Role, dict[Classification, Strategy]]
    resources: dict[Resource, ResourceSpec]
    templates: dict[str, Any] = Field(default_factory=dict)  # YAML anchors for shared field sets only

    @classmethod
    def from_yaml(cls, text: str) -> MaskingMatrix:
        """Parse and check a matrix (``ConfigError`` naming every problem)."""
        try:
            return cls.model_validate(yaml.safe_load(text))
        except ValidationError as exc:
            raise ConfigError(f"masking matrix: {exc}") from exc

    @classmethod
    def from_package(cls) -> MaskingMatrix:
        """The shipped ``masking.yaml``."""
        return cls.from_yaml(shipped_text("masking.yaml"))

    def resolve(self, role: Role, resource: Resource, path: str) -> tuple[FieldSpec, Strategy]:
        """The spec of a field and what the role sees of it."""
        spec = self.resources[resource].field(path)
        return spec, spec.rule_for(role) or self.defaults[role][spec.classification]

    def strategy(self, role: Role, resource: Resource, path: str) -> Strategy:
        """What the role sees of one field of one resource."""
        return self.resolve(role, resource, path)[1]

    def field_names(self, resource: Resource) -> tuple[str, ...]:
        """The resource's declared fields, then the name standing for all the others."""
        return (*self.resources[resource].fields, OTHER_FIELDS)

    @model_validator(mode="after")
    def _complete_and_safe(self) -> Self:
        problems = [f"no defaults for role {role.value}" for role in Role if role not in self.defaults]
        problems += [f"no masking for resource {r.value}" for r in Resource if r not in self.resources]
        problems += [p for role, rules in self.defaults.items() for p in _default_problems(role, rules)]
        if problems:
            raise ValueError("; ".join(problems))
        cells = product(Role, Resource)
        problems = [p for role, resource in cells for p in self._cell_problems(role, resource)]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _cell_problems(self, role: Role, resource: Resource) -> list[str]:
        problems = []
        for name in self.field_names(resource):
            spec, strategy = self.resolve(role, resource, name)
            where = f"{role.value} x {resource.value}.{name}"
            if spec.classification is Classification.PII and strategy is Strategy.CLEAR:
                problems.append(f"{where}: pii is never clear (clear PII is a purpose-bound reveal)")
            if strategy is Strategy.LAST4 and spec.classification is not Classification.PAYMENT:
                problems.append(f"{where}: last4 is for card data only")
        return problems


def _default_problems(role: Role, rules: dict[Classification, Strategy]) -> list[str]:
    missing = [level.value for level in Classification if level not in rules]
    return [f"defaults of {role.value} miss {', '.join(missing)}"] if missing else []
