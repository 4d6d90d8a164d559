"""Who asks and what for: roles, resources, actions, the user's scope, and one access request."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    """The job a user does; each role has one row in ``policy.csv`` and one in ``masking.yaml``."""

    ADMIN = "admin"
    ANALYST = "analyst"
    MARKETER = "marketer"
    SUPPORT = "support"
    FINANCE = "finance"
    SECURITY = "security"
    DATA_SCIENTIST = "data_scientist"


class Resource(StrEnum):
    """What the API exposes; a route belongs to exactly one resource."""

    KPIS = "kpis"
    MARTS = "marts"
    CUSTOMERS = "customers"  # customer 360: profile, orders, sessions, reviews
    ORDERS = "orders"
    PRODUCTS = "products"
    INVENTORY = "inventory"
    QUALITY = "quality"
    CATALOG = "catalog"
    AUDIT = "audit"
    USERS = "users"
    KEYS = "keys"
    EXPORTS = "exports"
    RECOMMENDATIONS = "recommendations"
    FORECASTS = "forecasts"
    PRICING = "pricing"  # price suggestions: they show margins, which are confidential


class Action(StrEnum):
    """What the user does to a resource."""

    READ = "read"  # view rows or figures (field masking still applies)
    EXPORT = "export"  # download the resource as CSV: bulk data leaving the platform
    WRITE = "write"  # change it or start a job on it (create a user, rotate a key, retrain a model)
    ADMIN = "admin"  # configure it and other people's access to it


class Scope(BaseModel):
    """The stores and regions a user may see; an empty set means all of them."""

    model_config = ConfigDict(frozen=True)

    stores: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()

    def allows_store(self, store: str | None) -> bool:
        """Whether a request about ``store`` (None: no particular store) is inside the scope."""
        return store is None or not self.stores or store in self.stores

    def allows_region(self, region: str | None) -> bool:
        """Whether a request about ``region`` (None: no particular region) is inside the scope."""
        return region is None or not self.regions or region in self.regions


class Principal(BaseModel):
    """The authenticated user (or API key) a request runs as."""

    model_config = ConfigDict(frozen=True)

    user_id: str = Field(min_length=1, max_length=400)
    role: Role
    scope: Scope = Scope()
    pii_clearance: bool = False  # granted per user; decrypted PII also needs a stated purpose


class AccessRequest(BaseModel):
    """One action on one resource, optionally about one store or region."""

    model_config = ConfigDict(frozen=True)

    resource: Resource
    action: Action
    store: str | None = None
    region: str | None = None
