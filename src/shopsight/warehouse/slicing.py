"""KPIs for one slice of the business: a channel, a country, a device type or a product category.

A slice filters the facts *after* each person's first session and each customer's first order are known,
so "new users" and "new customers" keep their meaning (first ever, not first within the slice). Not every
fact belongs to every slice: sessions have a country and a device but no sales channel or category, ad
spend has a channel only. Asking for a metric the slice cannot split is an error that names the metric,
never a number silently computed over everything.

* ``country``: sessions by their country; orders (and their refunds) by the country they ship to.
* ``device``: sessions by device type; orders by the device of the session that reported them
  (its Order Completed event), as the ``kpi_daily_by_device`` mart attributes them.
* ``channel``: orders (and their refunds) by the order's channel; ad spend by its channel.
* ``category``: orders with at least one line in the level-1 category (and their refunds).
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict

from shopsight.errors import ShopSightError
from shopsight.warehouse.transforms.kpis import METRICS_BY_NAME

# Which facts each component is counted from.
_TRAFFIC = frozenset(
    {
        "sessions", "users", "new_users", "returning_users", "sessions_with_product_view",
        "sessions_with_cart", "sessions_with_checkout", "sessions_with_order", "sessions_abandoning_cart",
        "promotion_views", "promotion_clicks",
    }
)  # fmt: skip
_SPEND = frozenset({"marketing_spend"})
# The facts a filter can split: traffic (sessions), sales (orders and refunds), spend.
_SPLITS = {
    "country": {"traffic", "sales"},
    "device": {"traffic", "sales"},
    "channel": {"sales", "spend"},
    "category": {"sales"},
}
ORDER_COMPLETED = "Order Completed"


class UnsliceableMetric(ShopSightError):
    """A metric whose facts the requested slice cannot split."""


def _fact_of(component: str) -> str:
    if component in _TRAFFIC:
        return "traffic"
    return "spend" if component in _SPEND else "sales"


class KpiSlice(BaseModel):
    """Filters on dimensions; ``None`` means every value."""

    model_config = ConfigDict(frozen=True)

    channel: str | None = None
    country: str | None = None
    device: str | None = None
    category: str | None = None

    def filters(self) -> dict[str, str]:
        """The filters that are set."""
        return {name: value for name, value in self.model_dump().items() if value is not None}

    def check(self, metrics: Iterable[str]) -> None:
        """Refuse metrics built from facts a set filter cannot split."""
        for name in metrics:
            metric = METRICS_BY_NAME[name]
            facts = {_fact_of(metric.numerator)}
            if metric.denominator is not None:
                facts.add(_fact_of(metric.denominator))
            for dimension in self.filters():
                missing = facts - _SPLITS[dimension]
                if missing:
                    raise UnsliceableMetric(
                        f"{name} cannot be filtered by {dimension}: its {', '.join(sorted(missing))} facts "
                        f"have no {dimension}"
                    )

    def sessions(self, sessions: ir.Table) -> ir.Table:
        """Sessions in the slice."""
        if self.country is not None:
            sessions = sessions.filter(sessions.country == self.country)
        if self.device is not None:
            sessions = sessions.filter(sessions.device_type == self.device)
        return sessions

    def orders(self, orders: ir.Table, tables: dict[str, ir.Table]) -> ir.Table:
        """Orders (any ``fact_order`` projection with ``order_id``) in the slice."""
        if self.country is not None:
            orders = orders.filter(orders.country == self.country)
        if self.channel is not None:
            orders = orders.filter(orders.channel == self.channel)
        if self.device is not None:
            orders = orders.semi_join(_orders_reported_from(tables, self.device), "order_id")
        if self.category is not None:
            orders = orders.semi_join(_orders_in_category(tables, self.category), "order_id")
        return orders

    def refunds(self, refunds: ir.Table, tables: dict[str, ir.Table]) -> ir.Table:
        """Refunds of orders in the slice."""
        if not self.filters():
            return refunds
        kept = self.orders(tables["fact_order"], tables).select("order_id")
        return refunds.semi_join(kept, "order_id")

    def spend(self, spend: ir.Table) -> ir.Table:
        """Ad spend in the slice."""
        return spend if self.channel is None else spend.filter(spend.channel == self.channel)


def _orders_reported_from(tables: dict[str, ir.Table], device: str) -> ir.Table:
    """Order ids whose Order Completed was tracked in a session on ``device``."""
    events, sessions = tables["fact_event"], tables["fact_session"]
    completed = events.filter(
        (events.event_name == ORDER_COMPLETED) & events.order_id.notnull() & events.session_id.notnull()
    )
    # The first report wins, as in the marts: an order counts under one session only.
    first = ibis.window(group_by="order_id", order_by=["ts", "event_id"])
    ranked = completed.mutate(report_no=ibis.row_number().over(first))
    reporting = ranked.filter(ranked.report_no == 0)
    on_device = sessions.filter(sessions.device_type == device).select("session_id")
    return reporting.semi_join(on_device, "session_id").select("order_id")


def _orders_in_category(tables: dict[str, ir.Table], category: str) -> ir.Table:
    """Order ids with at least one line of a product in the level-1 ``category``."""
    items, products = tables["fact_order_item"], tables["dim_product"]
    in_category = products.filter(products.category_l1 == category).select("product_id")
    return items.semi_join(in_category, "product_id").select("order_id").distinct()
