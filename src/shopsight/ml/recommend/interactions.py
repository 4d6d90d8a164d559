"""Interactions (who touched which item when, with what weight) and the item catalog, as numpy columns.

Built from Arrow tables: the warehouse facts (:func:`from_warehouse_tables`), any CSV
(:func:`from_csv`), or a shipped dataset (:mod:`shopsight.ml.recommend.datasets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from shopsight.errors import ShopSightError

Ids = NDArray[np.str_]
Floats = NDArray[np.float64]

# How much one event of each kind counts in implicit feedback (a purchase outweighs a view).
EVENT_WEIGHTS = {"purchase": 1.0, "cart": 0.5, "view": 0.2}
DAY_SECONDS = 86_400.0


class InteractionsError(ShopSightError):
    """Interaction data that cannot be used (missing columns, empty, unequal lengths)."""


def as_ids(values: pa.Array | pa.ChunkedArray | NDArray[np.generic]) -> Ids:
    """Ids as a numpy unicode array (numbers become their decimal text)."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        values = pc.cast(values, pa.string()).to_numpy(zero_copy_only=False)
    return np.asarray(values).astype(np.str_)


@dataclass(frozen=True)
class Interactions:
    """One row per interaction; ``times`` are unix seconds, ``sessions`` and ``segments`` optional.

    ``segments`` is the user's context at the time (country, customer segment) for segment popularity.
    """

    users: Ids
    items: Ids
    times: Floats
    weights: Floats
    sessions: Ids | None = None
    segments: Ids | None = None

    def __post_init__(self) -> None:
        sizes = {len(c) for c in (self.users, self.items, self.times, self.weights, *self._optional())}
        if len(sizes) > 1:
            raise InteractionsError(f"interaction columns have different lengths: {sorted(sizes)}")

    def _optional(self) -> list[Ids]:
        return [c for c in (self.sessions, self.segments) if c is not None]

    def __len__(self) -> int:
        return len(self.users)

    def select(self, mask: NDArray[np.bool_] | NDArray[np.intp]) -> Interactions:
        """The rows picked by a boolean mask or an index array."""
        return Interactions(
            users=self.users[mask],
            items=self.items[mask],
            times=self.times[mask],
            weights=self.weights[mask],
            sessions=None if self.sessions is None else self.sessions[mask],
            segments=None if self.segments is None else self.segments[mask],
        )

    def before(self, cutoff: float) -> Interactions:
        """Rows strictly before ``cutoff`` (unix seconds)."""
        return self.select(self.times < cutoff)

    def since(self, cutoff: float) -> Interactions:
        """Rows at or after ``cutoff`` (unix seconds)."""
        return self.select(self.times >= cutoff)

    def session_keys(self) -> Ids:
        """Session ids, or user + day when the data has no sessions."""
        if self.sessions is not None:
            return self.sessions
        days = (self.times // DAY_SECONDS).astype(np.int64).astype(np.str_)
        return np.char.add(np.char.add(self.users, "|"), days)

    def with_sessions(self, sessions: Ids) -> Interactions:
        """The same rows with session ids."""
        return replace(self, sessions=sessions)

    def to_arrow(self) -> pa.Table:
        """An Arrow table with columns user, item, time (timestamp), weight, session, segment."""
        columns: dict[str, pa.Array] = {
            "user": pa.array(self.users),
            "item": pa.array(self.items),
            "time": pc.cast(pa.array((self.times * 1e6).astype(np.int64)), pa.timestamp("us", "UTC")),
            "weight": pa.array(self.weights),
        }
        if self.sessions is not None:
            columns["session"] = pa.array(self.sessions)
        if self.segments is not None:
            columns["segment"] = pa.array(self.segments)
        return pa.table(columns)


def concat(parts: list[Interactions]) -> Interactions:
    """Rows of every part, in order (optional columns kept only when every part has them)."""

    def joined(name: str) -> Ids | None:
        columns = [getattr(p, name) for p in parts]
        return None if any(c is None for c in columns) else np.concatenate(columns)

    return Interactions(
        users=np.concatenate([p.users for p in parts]),
        items=np.concatenate([p.items for p in parts]),
        times=np.concatenate([p.times for p in parts]),
        weights=np.concatenate([p.weights for p in parts]),
        sessions=joined("sessions"),
        segments=joined("segments"),
    )


@dataclass(frozen=True)
class ItemCatalog:
    """What is known about items besides interactions: text, category, margin, listing time.

    ``texts`` feed the content model (title, description, attributes, category); empty strings are fine.
    ``created_at`` is unix seconds (NaN when unknown); ``margins`` a fraction of price (NaN when unknown).
    """

    items: Ids
    texts: Ids
    categories: Ids = field(default_factory=lambda: np.array([], dtype=np.str_))
    created_at: Floats = field(default_factory=lambda: np.array([], dtype=np.float64))
    margins: Floats = field(default_factory=lambda: np.array([], dtype=np.float64))

    def __post_init__(self) -> None:
        n = len(self.items)
        if len(self.texts) != n:
            raise InteractionsError("catalog texts and items have different lengths")
        for name in ("categories", "created_at", "margins"):
            column = getattr(self, name)
            if len(column) not in (0, n):
                raise InteractionsError(f"catalog {name} and items have different lengths")

    def category_of(self) -> dict[str, str]:
        """Item id -> category (empty when the catalog has no categories)."""
        return dict(zip(self.items.tolist(), self.categories.tolist(), strict=False))


def unix_seconds(column: pa.Array | pa.ChunkedArray) -> Floats:
    """Unix seconds from a timestamp, date, number or ISO 8601 text column (text without zone is UTC)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        try:
            column = pc.cast(pc.replace_substring_regex(column, "Z$", ""), pa.timestamp("us"))
        except pa.ArrowInvalid as error:
            raise InteractionsError(f"times are not ISO 8601 or numbers: {error}") from error
    if pa.types.is_date(column.type):
        column = pc.cast(column, pa.timestamp("s"))
    if pa.types.is_timestamp(column.type):
        column = pc.cast(pc.cast(column, pa.timestamp("us")), pa.int64())
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64) / 1e6
    return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def from_table(
    table: pa.Table,
    *,
    user_col: str,
    item_col: str,
    time_col: str,
    session_col: str | None = None,
    segment_col: str | None = None,
    weight: float = 1.0,
) -> Interactions:
    """Interactions from any Arrow table; rows with a missing user, item or time are dropped."""
    needed = [c for c in (user_col, item_col, time_col, session_col, segment_col) if c is not None]
    missing = [c for c in needed if c not in table.column_names]
    if missing:
        raise InteractionsError(f"missing column(s) {', '.join(missing)}; columns: {table.column_names}")
    times = unix_seconds(table[time_col])
    valid = ~np.isnan(times)
    for name in (user_col, item_col):
        valid &= ~np.asarray(table[name].is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
    rows = np.flatnonzero(valid)
    data = Interactions(
        users=as_ids(table[user_col]),
        items=as_ids(table[item_col]),
        times=times,
        weights=np.full(len(times), weight),
        sessions=as_ids(table[session_col]) if session_col else None,
        segments=as_ids(table[segment_col]) if segment_col else None,
    )
    return data.select(rows)


def from_csv(
    path: Path,
    *,
    user_col: str,
    item_col: str,
    time_col: str,
    session_col: str | None = None,
    delimiter: str = ",",
) -> Interactions:
    """Interactions from a CSV (gzip ok); every column is read as text, times parsed from it."""
    from pyarrow import csv

    text_columns = {c: pa.string() for c in (user_col, item_col, session_col) if c}
    table = csv.read_csv(
        path,
        parse_options=csv.ParseOptions(delimiter=delimiter),
        convert_options=csv.ConvertOptions(column_types=text_columns),
    )
    if not len(table):
        raise InteractionsError(f"{path} has no rows")
    return from_table(table, user_col=user_col, item_col=item_col, time_col=time_col, session_col=session_col)


def from_warehouse_tables(tables: Mapping[str, pa.Table]) -> Interactions:
    """Purchases (fact_order_item x fact_order), cart adds and product views (fact_event).

    Purchases count :data:`EVENT_WEIGHTS`'s ``purchase`` weight and use the order as session; events use
    the stitched person and the web session. Credit-note lines (negative quantities) and cancelled orders
    are not purchases.
    """
    parts = [_purchases(tables["fact_order_item"], tables["fact_order"])]
    if "fact_event" in tables:  # product views and cart adds, when the clickstream is loaded
        parts.extend(_product_events(tables["fact_event"]))
    data = concat([p for p in parts if len(p)])
    if not len(data):
        raise InteractionsError("the warehouse has no purchases or product events yet")
    return data


def _purchases(order_items: pa.Table, orders: pa.Table) -> Interactions:
    kept = orders.filter(pc.field("is_sale") & ~pc.field("is_cancelled"))  # pc.and_ takes no expressions
    lines = order_items.filter(pc.greater(pc.field("quantity"), 0)).join(
        kept.select(["order_id", "country"]), "order_id", join_type="inner"
    )
    return from_table(
        lines,
        user_col="customer_id",
        item_col="product_id",
        time_col="placed_at",
        session_col="order_id",
        segment_col="country",
        weight=EVENT_WEIGHTS["purchase"],
    )


def _product_events(events: pa.Table) -> list[Interactions]:
    """Product Viewed / Product Added rows, when fact_event has a product_id column."""
    if "product_id" not in events.column_names:
        return []
    parts = []
    for event, kind in (("Product Viewed", "view"), ("Product Added", "cart")):
        rows = events.filter(pc.equal(pc.field("event_name"), event))
        rows = rows.filter(pc.invert(pc.is_null(pc.field("session_id"))))
        parts.append(
            from_table(
                rows,
                user_col="person_id",
                item_col="product_id",
                time_col="ts",
                session_col="session_id",
                weight=EVENT_WEIGHTS[kind],
            )
        )
    return parts
