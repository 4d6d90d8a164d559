"""KPIs per period from the curated facts: additive components first, ratios computed from their sums.

Ratios are never averaged across days: a week's conversion rate is the week's converting sessions over the
week's sessions, and distinct counts (users, customers) are recounted over the whole period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from shopsight.warehouse.transforms.grains import Grain as Grain
from shopsight.warehouse.transforms.grains import PeriodGrain as PeriodGrain

if TYPE_CHECKING:
    from shopsight.warehouse.slicing import KpiSlice

_BEFORE = date(1900, 1, 1)  # the "period" of days before a total's range: never equal to its start
_TRUNCATE = {"week": "W", "month": "M"}


@dataclass(frozen=True)
class Metric:
    """A KPI: an additive component (``numerator`` only) or a ratio of two components."""

    name: str
    description: str
    numerator: str
    denominator: str | None = None
    unit: str = "count"


METRICS: tuple[Metric, ...] = (
    Metric("sessions", "Sessions (a new session starts after 30 idle minutes).", "sessions"),
    Metric("users", "Distinct people (stitched user, else browser) with a session in the period.", "users"),
    Metric("new_users", "People whose first-ever session falls in the period.", "new_users"),
    Metric(
        "returning_users", "People with a session in the period and an earlier one before.", "returning_users"
    ),
    Metric("orders", "Placed orders (amount > 0), cancelled ones included.", "orders"),
    Metric("revenue", "Gross revenue of placed orders, in the reporting currency.", "revenue", unit="money"),
    Metric(
        "net_revenue",
        "Gross revenue minus cancelled orders and refunds (refund events, refunded orders, credit notes).",
        "net_revenue",
        unit="money",
    ),
    Metric("cancelled_revenue", "Amount of placed orders now cancelled.", "cancelled_revenue", unit="money"),
    Metric("refunds", "Refunded amount by refund date, in the reporting currency.", "refunds", unit="money"),
    Metric("aov", "Average order value: revenue / orders.", "revenue", "orders", unit="money"),
    Metric("units", "Units sold in placed orders.", "units"),
    Metric("customers", "Distinct customers who placed an order.", "customers"),
    Metric("new_customers", "Customers whose first order falls in the period.", "new_customers"),
    Metric(
        "repeat_purchase_rate",
        "Ordering customers who had ordered before the period / ordering customers.",
        "repeat_customers",
        "customers",
        unit="ratio",
    ),
    Metric(
        "conversion_rate",
        "Sessions with an order / sessions.",
        "sessions_with_order",
        "sessions",
        unit="ratio",
    ),
    Metric(
        "cart_abandonment_rate",
        "Sessions that added to cart without ordering / sessions that added to cart.",
        "sessions_abandoning_cart",
        "sessions_with_cart",
        unit="ratio",
    ),
    Metric(
        "view_to_cart_rate",
        "Funnel step: sessions with a cart add / sessions with a product view.",
        "sessions_with_cart",
        "sessions_with_product_view",
        unit="ratio",
    ),
    Metric(
        "cart_to_checkout_rate",
        "Funnel step: sessions that started checkout / sessions with a cart add.",
        "sessions_with_checkout",
        "sessions_with_cart",
        unit="ratio",
    ),
    Metric(
        "checkout_to_order_rate",
        "Funnel step: sessions with an order / sessions that started checkout.",
        "sessions_with_order",
        "sessions_with_checkout",
        unit="ratio",
    ),
    Metric("refund_rate", "Refunds / revenue.", "refunds", "revenue", unit="ratio"),
    Metric(
        "promotion_ctr",
        "Promotion clicks / promotion views.",
        "promotion_clicks",
        "promotion_views",
        unit="ratio",
    ),
    Metric("marketing_spend", "Marketing spend in the reporting currency.", "marketing_spend", unit="money"),
    Metric(
        "cac",
        "Customer acquisition cost: marketing spend / new customers.",
        "marketing_spend",
        "new_customers",
        unit="money",
    ),
)
METRICS_BY_NAME = {metric.name: metric for metric in METRICS}
COMPONENTS = (
    "sessions", "users", "new_users", "returning_users", "sessions_with_product_view", "sessions_with_cart",
    "sessions_with_checkout", "sessions_with_order", "sessions_abandoning_cart", "promotion_views",
    "promotion_clicks", "orders", "revenue", "cancelled_revenue", "units", "customers", "new_customers",
    "repeat_customers", "refunds", "net_revenue", "marketing_spend",
)  # fmt: skip


def period_of(day: ir.DateValue, grain: Grain, start: date | None = None) -> ir.DateValue:
    """The first day of the period holding ``day`` (weeks start on Monday, as ISO 8601 has it).

    With grain ``total`` the one period starts at ``start``; earlier days (first sessions or orders
    before the range) fall in an earlier period, so they count as returning, not new.
    """
    if grain == "total":
        if start is None:
            raise ValueError("a total over a range needs its start date")
        first = ibis.literal(start)
        return ibis.ifelse(day >= first, first, ibis.literal(_BEFORE))
    return day if grain == "day" else day.truncate(_TRUNCATE[grain]).cast("date")


def _in_range(table: ir.Table, column: str, start: date | None, end: date | None) -> ir.Table:
    if start is not None:
        table = table.filter(table[column] >= start)
    if end is not None:
        table = table.filter(table[column] <= end)
    return table


def kpi_components(
    tables: dict[str, ir.Table],
    grain: Grain,
    start: date | None = None,
    end: date | None = None,
    where: KpiSlice | None = None,
) -> ir.Table:
    """One row per period with every additive component (and distinct counts over the whole period).

    ``where`` keeps one slice (a country, channel, device or category) once first sessions and first
    orders are known, so "new" still means first ever.
    """
    sessions = tables["fact_session"]
    first_seen = sessions.group_by("person_id").aggregate(first_session_date=sessions.session_date.min())
    sessions = sessions.inner_join(first_seen, "person_id")
    if where is not None:
        sessions = where.sessions(sessions)
    sessions = _in_range(sessions, "session_date", start, end)
    sessions = sessions.mutate(period=period_of(sessions.session_date, grain, start))
    new_person = ibis.ifelse(
        period_of(sessions.first_session_date, grain, start) == sessions.period,
        sessions.person_id,
        ibis.null("string"),
    )
    old_person = ibis.ifelse(
        sessions.first_session_date < sessions.period, sessions.person_id, ibis.null("string")
    )
    cart, ordered = sessions.cart_adds > 0, sessions.orders > 0
    traffic = sessions.group_by("period").aggregate(
        sessions=sessions.count(),
        users=sessions.person_id.nunique(),
        new_users=new_person.nunique(),
        returning_users=old_person.nunique(),
        sessions_with_product_view=(sessions.product_views > 0).cast("int64").sum(),
        sessions_with_cart=cart.cast("int64").sum(),
        sessions_with_checkout=(sessions.checkouts > 0).cast("int64").sum(),
        sessions_with_order=ordered.cast("int64").sum(),
        sessions_abandoning_cart=(cart & ~ordered).cast("int64").sum(),
        promotion_views=sessions.promotion_views.sum(),
        promotion_clicks=sessions.promotion_clicks.sum(),
    )

    orders = tables["fact_order"]
    sales = orders.filter(orders.is_sale)
    firsts = (
        sales.filter(sales.customer_id.notnull())
        .group_by("customer_id")
        .aggregate(first_order_date=sales.order_date.min())
    )
    sales = sales.left_join(firsts, "customer_id")
    if where is not None:
        sales = where.orders(sales, tables)
    sales = _in_range(sales, "order_date", start, end)
    sales = sales.mutate(period=period_of(sales.order_date, grain, start))
    no_customer = ibis.null("string")
    new_customer = ibis.ifelse(
        period_of(sales.first_order_date, grain, start) == sales.period, sales.customer_id, no_customer
    )
    repeat_customer = ibis.ifelse(
        sales.first_order_date < sales.period, sales.customer_id, ibis.null("string")
    )
    commerce = sales.group_by("period").aggregate(
        orders=sales.count(),
        revenue=sales.gross_reporting.sum(),
        cancelled_revenue=sales.cancelled_reporting.sum(),
        units=sales.units.sum(),
        customers=sales.customer_id.nunique(),
        new_customers=new_customer.nunique(),
        repeat_customers=repeat_customer.nunique(),
    )

    refunds = _in_range(tables["fact_refund"], "refund_date", start, end)
    if where is not None:
        refunds = where.refunds(refunds, tables)
    refunds = refunds.mutate(period=period_of(refunds.refund_date, grain, start))
    refunded = refunds.group_by("period").aggregate(refunds=refunds.amount_reporting.sum())

    spend = _in_range(tables["fact_marketing_spend"], "spend_date", start, end)
    if where is not None:
        spend = where.spend(spend)
    spend = spend.mutate(period=period_of(spend.spend_date, grain, start))
    marketing = spend.group_by("period").aggregate(marketing_spend=spend.cost_reporting.sum())

    periods = (
        traffic.select("period")
        .union(commerce.select("period"))
        .union(refunded.select("period"))
        .union(marketing.select("period"))
        .distinct()
    )
    joined = periods
    for part in (traffic, commerce, refunded, marketing):
        joined = joined.left_join(part, "period").drop("period_right")
    filled = joined.mutate(
        **{
            name: joined[name].fill_null(0.0 if name in _MONEY else 0)
            for name in COMPONENTS
            if name != "net_revenue"
        }
    )
    return filled.mutate(net_revenue=filled.revenue - filled.cancelled_revenue - filled.refunds).order_by(
        "period"
    )


_MONEY = frozenset({"revenue", "cancelled_revenue", "refunds", "marketing_spend"})


def kpi_table(components: ir.Table, metrics: list[str]) -> ir.Table:
    """``period`` plus the named metrics (ratios are NULL where the denominator is 0)."""
    columns: dict[str, ir.Value] = {}
    for name in metrics:
        metric = METRICS_BY_NAME[name]
        numerator = components[metric.numerator]
        if metric.denominator is None:
            columns[name] = numerator
        else:
            denominator = components[metric.denominator].cast("float64")
            columns[name] = ibis.ifelse(
                denominator == 0, ibis.null("float64"), numerator.cast("float64") / denominator
            )
    return components.select("period", **columns).order_by("period")


def kpi_daily(ctx_tables: dict[str, ir.Table]) -> ir.Table:
    """The daily KPI mart: components and every metric per store-local day."""
    components = kpi_components(ctx_tables, "day")
    ratios = kpi_table(components, [m.name for m in METRICS if m.denominator is not None])
    return components.inner_join(ratios, "period").order_by("period")
