"""KPI marts by dimension, built from the curated facts and written once for every engine.

Conventions every mart follows (each builder's docstring gives its own definitions):

* An *order* is a placed sale (amount > 0, cancelled ones included, as in ``kpi_daily``) on its store-local
  order day; ``revenue`` is its gross amount in the reporting currency.
* Traffic columns (``sessions``, ``users``, ``sessions_with_*``...) mean what they mean in ``kpi_daily``,
  counted within the row's dimension values; distinct counts are recounted per row, never added up.
* Ratios come from the row's own components and are NULL when the denominator is 0.
* A missing dimension value is a label (``(unknown)``; ``(no session)`` for an order no tracked session
  reported), never NULL, so every key is unique and joinable.
* Every window orders by a unique key, so DuckDB and Spark agree row for row.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from shopsight.warehouse.context import BuildContext
from shopsight.warehouse.transforms.kpis import METRICS_BY_NAME, period_of

UNKNOWN = "(unknown)"
NO_SESSION = "(no session)"
ORDER_COMPLETED = "Order Completed"
PROMOTION_VIEWED, PROMOTION_CLICKED = "Promotion Viewed", "Promotion Clicked"
# Ratios of the by-dimension daily marts, as kpi_daily defines them.
DIMENSION_RATIOS = (
    "conversion_rate", "cart_abandonment_rate", "view_to_cart_rate", "cart_to_checkout_rate",
    "checkout_to_order_rate", "aov",
)  # fmt: skip
# The closed funnel: a session reaches a step when it did that step and every earlier one.
FUNNEL_STEPS = (
    ("session", None), ("product_view", "product_views"), ("cart", "cart_adds"), ("checkout", "checkouts"),
    ("order", "orders"),
)  # fmt: skip


def ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """``numerator / denominator`` as float64, NULL when the denominator is 0."""
    below = denominator.cast("float64")
    return ibis.ifelse(below == 0, ibis.null("float64"), numerator.cast("float64") / below)


def count_where(flag: ir.BooleanValue) -> ir.IntegerScalar:
    """How many rows ``flag`` holds for (an int64 aggregate)."""
    return flag.cast("int64").sum().cast("int64")


def _money(amount: ir.FloatingValue) -> ir.FloatingScalar:
    return amount.sum().cast("float64")


def _label(value: ir.StringValue, default: str = UNKNOWN) -> ir.StringValue:
    return value.fill_null(default)


def _month_index(day: ir.DateValue) -> ir.IntegerValue:
    return day.year().cast("int64") * 12 + day.month().cast("int64")


def _first(table: ir.Table, by: str, order: Sequence[str]) -> ir.Table:
    """The first row of each ``by`` value in ``order`` (which must make rows unique within ``by``)."""
    window = ibis.window(group_by=by, order_by=list(order))
    ranked = table.mutate(_first_rank=ibis.row_number().over(window))
    return ranked.filter(ranked._first_rank == 0).drop("_first_rank")


def _outer(parts: Sequence[ir.Table], keys: Sequence[str]) -> ir.Table:
    """Every key any part has, with every part's measures (0 where a part has no row for the key)."""
    combined = ibis.union(*[part.select(*keys) for part in parts], distinct=True)
    for part in parts:
        joined = combined.left_join(part, list(keys))
        measures = [part[c] for c in part.columns if c not in keys]
        combined = joined.select(*[combined[c] for c in combined.columns], *measures)
    filled = {
        c: combined[c].fill_null(0.0 if combined[c].type().is_floating() else 0)
        for c in combined.columns
        if c not in keys
    }
    return combined.mutate(**filled)


def _with_metrics(table: ir.Table, names: Sequence[str]) -> ir.Table:
    """``table`` plus the named ratio metrics of :data:`~.kpis.METRICS`, from its own components."""
    columns = {}
    for name in names:
        metric = METRICS_BY_NAME[name]
        assert metric.denominator is not None, name
        columns[name] = ratio(table[metric.numerator], table[metric.denominator])
    return table.mutate(**columns)


def _sales(ctx: BuildContext) -> ir.Table:
    orders = ctx.table("fact_order")
    return orders.filter(orders.is_sale)


# ---- daily traffic and orders by channel, country and device ----


def _sessions(ctx: BuildContext, dims: Sequence[str]) -> ir.Table:
    """Sessions with ``period`` (their day), the person's first session day and labelled ``dims``."""
    sessions = ctx.table("fact_session")
    first = sessions.group_by("person_id").aggregate(first_session_date=sessions.session_date.min())
    joined = sessions.inner_join(first, "person_id")
    return joined.mutate(period=joined.session_date, **{d: _label(joined[d]) for d in dims})


def _traffic(sessions: ir.Table, dims: Sequence[str]) -> ir.Table:
    """kpi_daily's traffic and funnel components per day and ``dims``."""
    person, none = sessions.person_id, ibis.null("string")
    cart, ordered = sessions.cart_adds > 0, sessions.orders > 0
    return sessions.group_by(["period", *dims]).aggregate(
        sessions=sessions.count().cast("int64"),
        users=person.nunique().cast("int64"),
        new_users=ibis.ifelse(sessions.first_session_date == sessions.period, person, none).nunique(),
        returning_users=ibis.ifelse(sessions.first_session_date < sessions.period, person, none).nunique(),
        sessions_with_product_view=count_where(sessions.product_views > 0),
        sessions_with_cart=count_where(cart),
        sessions_with_checkout=count_where(sessions.checkouts > 0),
        sessions_with_order=count_where(ordered),
        sessions_abandoning_cart=count_where(cart & ~ordered),
    )


def _commerce(orders: ir.Table, dims: Sequence[str]) -> ir.Table:
    """Orders, ordering customers and revenue per ``period`` and ``dims``."""
    return orders.group_by(["period", *dims]).aggregate(
        orders=orders.count().cast("int64"),
        customers=orders.customer_id.nunique().cast("int64"),
        revenue=_money(orders.gross_reporting),
    )


def _orders_by_session(ctx: BuildContext, dims: Sequence[str]) -> ir.Table:
    """Sale orders with the ``dims`` of the session whose (first) Order Completed reported them."""
    events = ctx.table("fact_event")
    completed = events.filter(
        (events.event_name == ORDER_COMPLETED) & events.order_id.notnull() & events.session_id.notnull()
    )
    reporting = _first(completed, "order_id", ["ts", "event_id"]).select("order_id", "session_id")
    sessions = ctx.table("fact_session")
    placed = sessions.inner_join(reporting, "session_id").select("order_id", *dims)
    sales = _sales(ctx)
    joined = sales.left_join(placed, sales.order_id == placed.order_id)
    return joined.select(
        period=sales.order_date,
        customer_id=sales.customer_id,
        gross_reporting=sales.gross_reporting,
        **{d: _label(placed[d], NO_SESSION) for d in dims},
    )


def _by_session_dims(ctx: BuildContext, dims: Sequence[str]) -> ir.Table:
    traffic = _traffic(_sessions(ctx, dims), dims)
    commerce = _commerce(_orders_by_session(ctx, dims), dims)
    return _with_metrics(_outer([traffic, commerce], ["period", *dims]), DIMENSION_RATIOS)


def kpi_daily_by_channel(ctx: BuildContext) -> ir.Table:
    """Daily traffic, funnel, orders and revenue per session source / medium.

    Sessions count under their own source / medium (UTM tags, else the referrer, else direct). An order
    counts under the session in which its Order Completed event was tracked (first such event), on the
    order's day; orders no tracked session reported are ``(no session)`` / ``(no session)``.
    """
    return _by_session_dims(ctx, ("source", "medium"))


def kpi_daily_by_device(ctx: BuildContext) -> ir.Table:
    """Daily traffic, funnel, orders and revenue per device type of the session.

    Orders are attributed as in :func:`kpi_daily_by_channel` (the device of the session that reported them).
    """
    return _by_session_dims(ctx, ("device_type",))


def kpi_daily_by_country(ctx: BuildContext) -> ir.Table:
    """Daily traffic, funnel, orders and revenue per country.

    Traffic counts under the session's country (geo-IP, else the browser locale); orders under the
    order's own (shipping) country. ``conversion_rate`` therefore stays a session measure.
    """
    traffic = _traffic(_sessions(ctx, ("country",)), ("country",))
    sales = _sales(ctx)
    orders = sales.mutate(period=sales.order_date, country=_label(sales.country))
    commerce = _commerce(orders, ("country",))
    return _with_metrics(_outer([traffic, commerce], ["period", "country"]), DIMENSION_RATIOS)


# ---- products and categories ----


def _sale_lines(ctx: BuildContext) -> ir.Table:
    """Lines of sale orders with their product's title and level-1 category."""
    items = ctx.table("fact_order_item")
    lines = items.semi_join(_sales(ctx).select("order_id"), "order_id")
    products = ctx.table("dim_product")
    joined = lines.left_join(products, lines.product_id == products.product_id)
    return joined.select(
        order_id=lines.order_id,
        order_date=lines.order_date,
        customer_id=lines.customer_id,
        product_id=_label(lines.product_id),
        title=products.title,
        category_l1=_label(products.category_l1),
        units=ibis.greatest(lines.quantity, 0),
        line_amount=lines.line_amount_reporting,
    )


def _line_measures(lines: ir.Table) -> dict[str, ir.Scalar]:
    return {
        "orders": lines.order_id.nunique().cast("int64"),
        "units": lines.units.sum().cast("int64"),
        "item_revenue": _money(lines.line_amount),
    }


def kpi_daily_by_category(ctx: BuildContext) -> ir.Table:
    """Daily orders, customers, units and item revenue per level-1 product category.

    ``orders``: sale orders with a line in the category; ``units``: units sold (returned lines excluded);
    ``item_revenue``: line amounts (quantity x unit price - line discount) in the reporting currency, before
    order-level discounts, shipping and tax, so categories do not add up to ``kpi_daily.revenue``.
    """
    lines = _sale_lines(ctx)
    return lines.group_by(period=lines.order_date, category_l1=lines.category_l1).aggregate(
        customers=lines.customer_id.nunique().cast("int64"), **_line_measures(lines)
    )


def mart_top_products(ctx: BuildContext) -> ir.Table:
    """Every product sold in a month with its units, item revenue, orders and rank in the month.

    ``rank`` 1 is the month's best seller: by item revenue in whole cents, then units, then product id, so
    ranks are unique. Filter ``rank <= N`` for a top N.
    """
    lines = _sale_lines(ctx)
    # Each line rounded to cents and summed as integers: equal revenues tie exactly on every engine,
    # where float sums taken in another order (or rounded after summing) could break the tie either way.
    cents = (lines.line_amount * 100).round(0).cast("int64")
    monthly = lines.group_by(
        period=period_of(lines.order_date, "month"), product_id=lines.product_id
    ).aggregate(
        title=lines.title.max(),
        category_l1=lines.category_l1.max(),
        revenue_cents=cents.sum(),
        **_line_measures(lines),
    )
    order = [ibis.desc(monthly.revenue_cents), ibis.desc(monthly.units), monthly.product_id]
    best_first = ibis.window(group_by="period", order_by=order)
    ranked = monthly.mutate(rank=(ibis.row_number().over(best_first) + 1).cast("int64"))
    return ranked.drop("revenue_cents")


# ---- customers: cohorts, revenue by country, acquisition cost ----


def _customer_orders(ctx: BuildContext) -> ir.Table:
    """Sale orders of known customers: order month, cohort (first order's) month and order number."""
    sales = _sales(ctx)
    known = sales.filter(sales.customer_id.notnull())
    in_order = ibis.window(group_by="customer_id", order_by=["placed_at", "order_id"])
    month = period_of(known.order_date, "month")
    return known.mutate(
        month=month,
        cohort_month=month.min().over(ibis.window(group_by="customer_id")),
        order_no=(ibis.row_number().over(in_order) + 1).cast("int64"),
    )


def _cohort_grid(orders: ir.Table) -> ir.Table:
    """Each cohort with its size and every order month from its own on (month offset 0..N)."""
    cohorts = orders.group_by("cohort_month").aggregate(cohort_customers=orders.customer_id.nunique())
    months = orders.select("month").distinct()
    grid = cohorts.cross_join(months)
    return grid.filter(grid.month >= grid.cohort_month)


def mart_retention_cohorts(ctx: BuildContext) -> ir.Table:
    """Monthly customer cohorts (by first order month) and what they do at month offset 0, 1, ... N.

    ``retention_rate``: cohort customers with a sale order in the month / cohort customers (1.0 at
    offset 0). ``repeat_rate_to_date``: cohort customers with a second order by the end of the month /
    cohort customers. Offsets run to the last month in which the store took an order.
    """
    orders = _customer_orders(ctx)
    keys = ["cohort_month", "month"]
    activity = orders.group_by(keys).aggregate(
        active_customers=orders.customer_id.nunique().cast("int64"),
        orders=orders.count().cast("int64"),
        revenue=_money(orders.gross_reporting),
    )
    seconds = orders.filter(orders.order_no == 2)
    repeaters = seconds.group_by(keys).aggregate(new_repeat_customers=seconds.count().cast("int64"))
    grid = _outer([_cohort_grid(orders), activity, repeaters], keys)
    to_date = ibis.window(group_by="cohort_month", order_by="month", rows=(None, 0))
    size = grid.cohort_customers
    table = grid.mutate(repeat_customers_to_date=grid.new_repeat_customers.sum().over(to_date).cast("int64"))
    return table.select(
        "cohort_month",
        month_offset=_month_index(table.month) - _month_index(table.cohort_month),
        activity_month=table.month,
        cohort_customers=size.cast("int64"),
        active_customers=table.active_customers,
        retention_rate=ratio(table.active_customers, size),
        orders=table.orders,
        revenue=table.revenue,
        revenue_per_customer=ratio(table.revenue, size),
        repeat_customers_to_date=table.repeat_customers_to_date,
        repeat_rate_to_date=ratio(table.repeat_customers_to_date, size),
    )


def mart_revenue_by_country(ctx: BuildContext) -> ir.Table:
    """Monthly orders, customers, gross / cancelled / refunded / net revenue, AOV and refund rate per country.

    The country is the order's (shipping) country; a refund counts under its order's country in the month
    it was refunded (``(unknown)`` when the order is not in the warehouse). ``net_revenue`` = revenue -
    cancelled_revenue - refunds, as in ``kpi_daily``.
    """
    sales = _sales(ctx)
    by_month = sales.mutate(period=period_of(sales.order_date, "month"), country=_label(sales.country))
    commerce = by_month.group_by(["period", "country"]).aggregate(
        orders=by_month.count().cast("int64"),
        customers=by_month.customer_id.nunique().cast("int64"),
        revenue=_money(by_month.gross_reporting),
        cancelled_revenue=_money(by_month.cancelled_reporting),
    )
    refunds, orders = ctx.table("fact_refund"), ctx.table("fact_order")
    joined = refunds.left_join(orders, refunds.order_id == orders.order_id)
    placed = joined.select(
        period=period_of(refunds.refund_date, "month"),
        country=_label(orders.country),
        amount=refunds.amount_reporting,
    )
    refunded = placed.group_by(["period", "country"]).aggregate(refunds=_money(placed.amount))
    table = _outer([commerce, refunded], ["period", "country"])
    table = table.mutate(net_revenue=table.revenue - table.cancelled_revenue - table.refunds)
    return _with_metrics(table, ["aov", "refund_rate"])


def mart_cac_by_channel(ctx: BuildContext) -> ir.Table:
    """Monthly marketing spend, new customers and customer acquisition cost per marketing channel.

    A customer is acquired through the ``channel`` of their first sale order (by time, then order id),
    the store's own attribution, named like the spend channels (paid_search, email...), in the month of
    that order. ``cac`` = marketing_spend / new_customers (NULL without new customers; 0 for unpaid
    channels). ``new_customer_revenue`` is the gross revenue of those first orders.
    """
    orders = _customer_orders(ctx)
    firsts = orders.filter(orders.order_no == 1)
    acquired = firsts.group_by(period=firsts.month, channel=_label(firsts.channel)).aggregate(
        new_customers=firsts.count().cast("int64"), new_customer_revenue=_money(firsts.gross_reporting)
    )
    spend = ctx.table("fact_marketing_spend")
    spend = spend.filter(spend.spend_date.notnull())
    paid = spend.group_by(
        period=period_of(spend.spend_date, "month"), channel=_label(spend.channel)
    ).aggregate(marketing_spend=_money(spend.cost_reporting))
    table = _outer([paid, acquired], ["period", "channel"])
    return table.mutate(cac=ratio(table.marketing_spend, table.new_customers))


# ---- funnel and promotions ----


def mart_funnel(ctx: BuildContext) -> ir.Table:
    """The daily closed funnel session -> product view -> cart -> checkout -> order, one row per step.

    A session reaches a step when it did that step and every earlier one (so counts never grow down the
    funnel). ``step_conversion_rate``: sessions at the step / sessions at the previous step (NULL for the
    first step); ``overall_conversion_rate``: sessions at the step / all sessions of the day.
    """
    sessions = ctx.table("fact_session")
    reached: list[ir.BooleanValue] = []
    for _step, column in FUNNEL_STEPS[1:]:
        done = sessions[column] > 0
        reached.append(done if not reached else reached[-1] & done)
    daily = sessions.group_by(period=sessions.session_date).aggregate(
        step_1=sessions.count().cast("int64"),
        **{f"step_{number}": count_where(flag) for number, flag in enumerate(reached, start=2)},
    )
    steps = []
    for number, (step, _column) in enumerate(FUNNEL_STEPS, start=1):
        count = daily[f"step_{number}"]
        previous = ratio(count, daily[f"step_{number - 1}"]) if number > 1 else ibis.null("float64")
        steps.append(
            daily.select(
                "period",
                step_no=ibis.literal(number, "int64"),
                step=ibis.literal(step, "string"),
                sessions=count,
                step_conversion_rate=previous,
                overall_conversion_rate=ratio(count, daily.step_1),
            )
        )
    return ibis.union(*steps)


def mart_promotions(ctx: BuildContext) -> ir.Table:
    """Daily views, clicks and click-through rate of each promotion (Promotion Viewed / Clicked events).

    ``promotion_ctr`` = promotion_clicks / promotion_views; ``viewers`` / ``clickers`` are distinct people.
    The name is the promotion's ``name`` property (the greatest seen that day, should it change).
    """
    events = ctx.table("fact_event")
    promo = events.filter(events.event_name.isin([PROMOTION_VIEWED, PROMOTION_CLICKED]))
    viewed, none = promo.event_name == PROMOTION_VIEWED, ibis.null("string")
    daily = promo.group_by(period=promo.event_date, promotion_id=_label(promo.promotion_id)).aggregate(
        promotion_name=ctx.json(promo.properties, "$.name").max(),
        promotion_views=count_where(viewed),
        promotion_clicks=count_where(~viewed),
        viewers=ibis.ifelse(viewed, promo.person_id, none).nunique().cast("int64"),
        clickers=ibis.ifelse(~viewed, promo.person_id, none).nunique().cast("int64"),
    )
    return daily.mutate(promotion_ctr=ratio(daily.promotion_clicks, daily.promotion_views))
