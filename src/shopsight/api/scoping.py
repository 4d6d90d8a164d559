"""A caller's store / region scope on routes that do not query the warehouse themselves.

Recommendations and the stored plan answer from memory, keyed by customer and location ids; the scope is
defined on the warehouse's customers (by country) and locations (by store, country or subdivision), see
:class:`~shopsight.warehouse.entity_views.RowScope`. :class:`ScopeIds` reads which ids a scope admits
once per published warehouse version and then answers from memory. Callers without a scope never query.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from enum import StrEnum

import ibis.expr.types as ir

from shopsight.api.auth import Caller
from shopsight.errors import ShopSightError
from shopsight.warehouse.entity_views import RowScope, current_customers
from shopsight.warehouse.reader import WarehouseReader


class Kind(StrEnum):
    """What a set of admitted ids names."""

    customers = "customers"
    locations = "locations"


def row_scope(caller: Caller) -> RowScope:
    """The rows the caller's store / region scope lets them see."""
    return RowScope(stores=caller.principal.scope.stores, regions=caller.principal.scope.regions)


def audience(caller: Caller) -> str:
    """The part of a caller that shapes a scoped answer (an ETag must differ when it does)."""
    scope = caller.principal.scope
    return f"{caller.principal.role.value}|{','.join(sorted(scope.stores))}/{','.join(sorted(scope.regions))}"


def _customers(scope: RowScope, tables: Mapping[str, ir.Table]) -> ir.Table:
    return scope.by_country(current_customers(tables)).select(id="customer_id")


def _locations(scope: RowScope, tables: Mapping[str, ir.Table]) -> ir.Table:
    locations = tables["dim_location"]
    return scope.by_location(locations, locations).select(id="location_id")


_QUERIES: dict[Kind, Callable[[RowScope, Mapping[str, ir.Table]], ir.Table]] = {
    Kind.customers: _customers,
    Kind.locations: _locations,
}


class ScopeIds:
    """The customer and location ids a scope admits, per published warehouse version."""

    def __init__(self, reader: WarehouseReader) -> None:
        self._reader = reader
        self._held: dict[tuple[str, Kind, RowScope], frozenset[str]] = {}
        self._lock = threading.Lock()

    def admitted(self, kind: Kind, scope: RowScope) -> frozenset[str]:
        """The ids of ``kind`` inside ``scope``; none when nothing is published (fail closed)."""
        try:
            with self._reader.current() as (version, tables):
                key = (version.version, kind, scope)
                with self._lock:
                    held = self._held.get(key)
                if held is None:
                    rows = _QUERIES[kind](scope, tables).to_pyarrow()
                    held = frozenset(str(value) for value in rows.column("id").to_pylist())
                    with self._lock:  # a newer version makes the older sets useless: keep its sets only
                        self._held = {k: ids for k, ids in self._held.items() if k[0] == key[0]}
                        self._held[key] = held
        except ShopSightError:  # nothing published, or the table is missing: nothing is inside the scope
            return frozenset()
        return held
