"""Orders, their lines, payments and refunds, with amounts in the reporting currency."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from shopsight.warehouse.context import BuildContext

CANCELLED = "cancelled"
REFUNDED_STATES = ("refunded", "returned")


def _orders(ctx: BuildContext) -> ir.Table:
    return ctx.latest_records("order", "order_id")


def _fx(ctx: BuildContext, table: ir.Table, currency: ir.StringValue, day: ir.DateValue) -> ir.Table:
    """``table`` with ``fx_rate``: reporting-currency units per unit of ``currency`` in the day's month."""
    fx = ctx.table("fx_rate")
    keyed = table.mutate(_fx_currency=currency, _fx_month=day.truncate("M"))
    joined = keyed.left_join(fx, (keyed._fx_currency == fx.currency) & (keyed._fx_month == fx.month))
    return joined.select(*[keyed[c] for c in table.columns], fx_rate=fx.rate)


def fact_order_item(ctx: BuildContext) -> ir.Table:
    """One row per order line (negative quantities are returned units)."""
    orders = _orders(ctx)
    listed = orders.select(
        "order_id",
        placed_at=orders.ts,
        customer_id=ctx.json(orders.payload, "$.customer_id"),
        currency=ctx.json(orders.payload, "$.currency"),
        item=ctx.engine.json_array(ctx.engine.json_text(orders.payload, "$.items")),
    )
    lines = listed.unnest("item", offset="line_index")
    item = lines.item
    quantity = ctx.integer(item, "$.quantity")
    unit_price = ctx.number(item, "$.unit_price")
    discount = ctx.number(item, "$.discount").fill_null(0.0)
    typed = lines.select(
        "order_id",
        line_no=(lines.line_index + 1).cast("int64"),
        placed_at=lines.placed_at,
        order_date=ctx.local_date(lines.placed_at),
        customer_id=lines.customer_id,
        product_id=ctx.json(item, "$.product_id"),
        variant_id=ctx.json(item, "$.variant_id"),
        sku=ctx.json(item, "$.sku"),
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        line_amount=quantity.cast("float64") * unit_price - discount,
        currency=lines.currency,
    )
    priced = _fx(ctx, typed, typed.currency, typed.order_date)
    return priced.mutate(line_amount_reporting=priced.line_amount * priced.fx_rate)


def fact_order(ctx: BuildContext) -> ir.Table:
    """One row per order (its latest state); gross, cancelled and returned amounts in reporting currency.

    An order's amount is its ``total`` when given, else lines - order discount + shipping + tax. A negative
    amount is a credit note (returned goods, as in the online-retail "C" invoices), not a sale.
    """
    orders = _orders(ctx)
    p = orders.payload
    header = orders.select(
        "order_id",
        customer_id=ctx.json(p, "$.customer_id"),
        anonymous_id=ctx.json(p, "$.anonymous_id"),
        placed_at=orders.ts,
        order_date=ctx.local_date(orders.ts),
        status=ctx.json(p, "$.status"),
        currency=ctx.json(p, "$.currency"),
        country=ctx.json(p, "$.country"),
        channel=ctx.json(p, "$.channel"),
        coupon=ctx.json(p, "$.coupon"),
        discount=ctx.number(p, "$.discount").fill_null(0.0),
        shipping=ctx.number(p, "$.shipping").fill_null(0.0),
        tax=ctx.number(p, "$.tax").fill_null(0.0),
        stated_total=ctx.number(p, "$.total"),
    )
    items = ctx.table("fact_order_item")
    lines = items.group_by("order_id").aggregate(
        line_count=items.count(),
        units=ibis.greatest(items.quantity, 0).sum(),
        returned_units=ibis.greatest(-items.quantity, 0).sum(),
        items_amount=items.line_amount.sum(),
    )
    joined = header.left_join(lines, header.order_id == lines.order_id)
    amount = ibis.coalesce(
        joined.stated_total,
        joined.items_amount.fill_null(0.0) - joined.discount + joined.shipping + joined.tax,
    )
    typed = joined.select(
        *[header[c] for c in header.columns if c != "stated_total"],
        line_count=joined.line_count.fill_null(0),
        units=joined.units.fill_null(0),
        returned_units=joined.returned_units.fill_null(0),
        items_amount=joined.items_amount.fill_null(0.0),
        total=amount,
    )
    priced = _fx(ctx, typed, typed.currency, typed.order_date)
    total = priced.total * priced.fx_rate
    is_sale = priced.total > 0
    return priced.mutate(
        total_reporting=total,
        is_sale=is_sale,
        is_cancelled=is_sale & (priced.status == CANCELLED),
        gross_reporting=ibis.ifelse(is_sale, total, 0.0),
        cancelled_reporting=ibis.ifelse(is_sale & (priced.status == CANCELLED), total, 0.0),
        returned_reporting=ibis.ifelse(priced.total < 0, -total, 0.0),
    )


def fact_payment(ctx: BuildContext) -> ir.Table:
    """One row per payment; card data only as vault tokens, BIN and last 4."""
    orders = _orders(ctx)
    listed = orders.select(
        "order_id",
        placed_at=orders.ts,
        payment=ctx.engine.json_array(ctx.engine.json_text(orders.payload, "$.payments")),
    )
    rows = listed.unnest("payment", offset="payment_index")
    pay = rows.payment
    typed = rows.select(
        "order_id",
        payment_no=(rows.payment_index + 1).cast("int64"),
        payment_id=ctx.json(pay, "$.payment_id"),
        paid_at=rows.placed_at,
        payment_date=ctx.local_date(rows.placed_at),
        method=ctx.json(pay, "$.method"),
        status=ctx.json(pay, "$.status"),
        amount=ctx.number(pay, "$.amount"),
        currency=ctx.json(pay, "$.currency"),
        card_token=ibis.coalesce(ctx.json(pay, "$.card_token"), ctx.json(pay, "$.card_number")),
        card_bin=ctx.json(pay, "$.card_bin"),
        card_last4=ctx.json(pay, "$.card_last4"),
    )
    priced = _fx(ctx, typed, typed.currency, typed.payment_date)
    return priced.mutate(amount_reporting=priced.amount * priced.fx_rate)


def fact_refund(ctx: BuildContext) -> ir.Table:
    """Refunds: ``Order Refunded`` events, refunded orders no event speaks for, and credit notes."""
    events = ctx.table("stg_event")
    refund_events = events.filter((events.event_name == "Order Refunded") & events.order_id.notnull())
    from_events = refund_events.select(
        refund_id=refund_events.event_id,
        order_id=refund_events.order_id,
        refunded_at=refund_events.ts,
        amount=refund_events.revenue,
        currency=refund_events.currency,
        origin=ibis.literal("event"),
    )
    orders = ctx.table("fact_order")
    refunded = orders.filter(orders.status.isin(REFUNDED_STATES) & orders.is_sale)
    unreported = refunded.anti_join(from_events, refunded.order_id == from_events.order_id)
    from_status = unreported.select(
        refund_id=ibis.literal("status:") + unreported.order_id,
        order_id=unreported.order_id,
        refunded_at=unreported.placed_at,
        amount=unreported.total,
        currency=unreported.currency,
        origin=ibis.literal("order_status"),
    )
    notes = orders.filter(orders.total < 0)
    from_notes = notes.select(
        refund_id=ibis.literal("credit_note:") + notes.order_id,
        order_id=notes.order_id,
        refunded_at=notes.placed_at,
        amount=-notes.total,
        currency=notes.currency,
        origin=ibis.literal("credit_note"),
    )
    refunds = from_events.union(from_status).union(from_notes)
    dated = refunds.mutate(refund_date=ctx.local_date(refunds.refunded_at))
    priced = _fx(ctx, dated, dated.currency, dated.refund_date)
    return priced.mutate(amount_reporting=priced.amount * priced.fx_rate)
