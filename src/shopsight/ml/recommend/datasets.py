"""Evaluation datasets: the shipped real ones by name, the demo store, or any interaction CSV.

Each comes already split in time (train strictly before test) with the task it is evaluated on:
``user`` (a known user's items of the next period) or ``session`` (the next item of a live session).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv

from shopsight.ml.recommend.interactions import (
    EVENT_WEIGHTS,
    Interactions,
    InteractionsError,
    ItemCatalog,
    as_ids,
    concat,
    from_csv,
    from_table,
    unix_seconds,
)
from shopsight.ml.recommend.names import DATASET_NAMES as DATASET_NAMES
from shopsight.ml.recommend.queries import Task
from shopsight.ml.recommend.split import TemporalSplit, split_at, split_by_share

ONLINE_RETAIL_FILE = "online-retail/online_retail_2010-12_2011-12.csv.gz"
ONLINE_RETAIL_TEST_FROM = datetime(2011, 10, 1, tzinfo=UTC)
YOOCHOOSE_FILES = (
    "yoochoose-100k/yoochoose-clicks-100k_train_full.txt",
    "yoochoose-100k/yoochoose-clicks-100k_test.txt",
)
DEMO_TEST_DAYS = 61
DEFAULT_TEST_SHARE = 0.2


@dataclass(frozen=True)
class EvaluationData:
    """A dataset split for offline evaluation."""

    name: str
    split: TemporalSplit
    task: Task
    catalog: ItemCatalog | None = None
    notes: list[str] = field(default_factory=list)


def datasets_dir() -> Path:
    """The shared datasets folder: ``SHOPSIGHT_DATASETS``, else ``../shared/datasets`` beside the checkout."""
    configured = os.environ.get("SHOPSIGHT_DATASETS")
    return Path(configured) if configured else Path(__file__).resolve().parents[5] / "shared" / "datasets"


def _require(path: Path) -> Path:
    if not path.is_file():
        raise InteractionsError(
            f"dataset file not found: {path} (set SHOPSIGHT_DATASETS to the datasets folder)"
        )
    return path


def online_retail(root: Path) -> EvaluationData:
    """UCI Online Retail purchases (customer x stock code): train to 2011-09-30, test Oct-Dec 2011.

    Cancellations (invoice C...), rows without a customer and non-positive quantities or prices are dropped;
    the invoice is the session (a basket), the country the segment, the description the item text.
    """
    text = {c: pa.string() for c in ("InvoiceNo", "StockCode", "Description", "Country")}
    table = csv.read_csv(
        _require(root / ONLINE_RETAIL_FILE), convert_options=csv.ConvertOptions(column_types=text)
    )
    table = table.filter(
        ~pc.starts_with(pc.field("InvoiceNo"), "C")
        & pc.is_valid(pc.field("CustomerID"))
        & (pc.field("Quantity") > 0)
        & (pc.field("UnitPrice") > 0)
    )
    table = table.set_column(
        table.schema.get_field_index("CustomerID"), "CustomerID", pc.cast(table["CustomerID"], pa.int64())
    )
    data = from_table(
        table,
        user_col="CustomerID",
        item_col="StockCode",
        time_col="InvoiceDate",
        session_col="InvoiceNo",
        segment_col="Country",
    )
    split = split_at(data, ONLINE_RETAIL_TEST_FROM.timestamp())
    train_rows = unix_seconds(table["InvoiceDate"]) < ONLINE_RETAIL_TEST_FROM.timestamp()
    return EvaluationData("online-retail", split, "user", _descriptions(table.filter(train_rows)))


def _descriptions(table: pa.Table) -> ItemCatalog:
    """Each stock code's first description in training (the only text the dataset has)."""
    items, first = np.unique(as_ids(table["StockCode"]), return_index=True)
    descriptions = as_ids(pc.fill_null(table["Description"], ""))[first]
    return ItemCatalog(items=items, texts=descriptions)


def yoochoose(root: Path) -> EvaluationData:
    """YOOCHOOSE 100k clicks with session-rec's split (train_full, test); sessions are the users."""
    train, test = (_yoochoose_file(_require(root / name)) for name in YOOCHOOSE_FILES)
    notes = ["sessions have no user ids: the task is the next click of a test session"]
    return EvaluationData("yoochoose-100k", TemporalSplit(train, test), "session", None, notes)


def _yoochoose_file(path: Path) -> Interactions:
    table = csv.read_csv(
        path,
        parse_options=csv.ParseOptions(delimiter="\t"),
        convert_options=csv.ConvertOptions(column_types={"SessionId": pa.string(), "ItemId": pa.string()}),
    )
    return from_table(
        table, user_col="SessionId", item_col="ItemId", time_col="Time", session_col="SessionId"
    )


def interaction_file(
    path: Path, *, user_col: str, item_col: str, time_col: str, session_col: str | None = None,
    test_from: datetime | None = None,
) -> EvaluationData:  # fmt: skip
    """Any CSV; test from ``test_from`` (default: the latest 20% of interactions by time).

    With a session column the task is the next item of a session, otherwise a user's next-period items.
    """
    delimiter = "\t" if path.suffix in (".tsv", ".txt") else ","
    data = from_csv(
        path,
        user_col=user_col,
        item_col=item_col,
        time_col=time_col,
        session_col=session_col,
        delimiter=delimiter,
    )
    split = (
        split_at(data, _utc(test_from).timestamp()) if test_from else split_by_share(data, DEFAULT_TEST_SHARE)
    )
    if not len(split.train) or not len(split.test):
        raise InteractionsError(
            "the split leaves no training or no test interactions: choose another --test-from"
        )
    return EvaluationData(path.name, split, "session" if session_col else "user")


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def demo_store(seed: int = 42, events: int = 120_000) -> EvaluationData:
    """The demo generator's store: purchases, cart adds and product views; the last two months test."""
    from shopsight.demo import DemoConfig, generate

    config = DemoConfig(seed=seed, events=events)
    orders, events_rows, products = [], [], []
    for item in generate(config):
        if item.kind == "order":
            orders.append(item.data)
        elif item.kind == "product":
            products.append(item.data)
        elif item.kind == "event" and item.data.get("event") in ("Product Viewed", "Product Added"):
            events_rows.append(item.data)
    data = concat([_demo_purchases(orders), _demo_events(events_rows)])
    start = datetime(config.start.year, config.start.month, config.start.day, tzinfo=UTC).timestamp()
    test_from = start + (config.days - DEMO_TEST_DAYS) * 86_400.0
    notes = [f"demo store: seed {seed}, {events:,} events; all interaction kinds count as truth"]
    return EvaluationData("demo", split_at(data, test_from), "user", _demo_catalog(products), notes)


def _demo_purchases(orders: list[dict[str, Any]]) -> Interactions:
    rows = [
        {
            "user": order["customer_id"] or order["anonymous_id"],
            "item": line["product_id"],
            "time": order["placed_at"],
            "session": order["order_id"],
            "segment": order["country"],
        }
        for order in orders
        if order.get("status") != "cancelled"
        for line in order["items"]
    ]
    columns = {"user_col": "user", "item_col": "item", "time_col": "time"}
    return from_table(
        pa.Table.from_pylist(rows), **columns, session_col="session", segment_col="segment",
        weight=EVENT_WEIGHTS["purchase"],
    )  # fmt: skip


def _demo_events(events: list[dict[str, Any]]) -> Interactions:
    rows = [
        {
            "user": event.get("userId") or event["anonymousId"],
            "item": event["properties"]["product_id"],
            "time": event["timestamp"],
            "session": event["anonymousId"] + event["timestamp"][:10],
            "segment": _country(event),
        }
        for event in events
    ]
    kinds = ["cart" if event["event"] == "Product Added" else "view" for event in events]
    data = from_table(
        pa.Table.from_pylist(rows), user_col="user", item_col="item", time_col="time", session_col="session",
        segment_col="segment",
    )  # fmt: skip
    return replace(data, weights=np.array([EVENT_WEIGHTS[kind] for kind in kinds]))


def _country(event: dict[str, Any]) -> str:
    locale = str(event.get("context", {}).get("locale") or "")
    return locale.split("-")[-1] if "-" in locale else ""


def _demo_catalog(products: list[dict[str, Any]]) -> ItemCatalog:
    """Title, description, brand, attributes and category path as text; margin and listing time."""

    def text(p: dict[str, Any]) -> str:
        attributes = " ".join(f"{k} {v}" for k, v in (p.get("attributes") or {}).items())
        return " ".join(
            [p["title"], p.get("description") or "", p.get("brand") or "", attributes, *p["category_path"]]
        )

    return ItemCatalog(
        items=np.array([p["product_id"] for p in products], dtype=np.str_),
        texts=np.array([text(p) for p in products], dtype=np.str_),
        categories=np.array(["/".join(p["category_path"]) for p in products], dtype=np.str_),
        created_at=unix_seconds(pa.array([p["created_at"] for p in products])),
        margins=np.array([(p["price"] - p["cost"]) / p["price"] if p["price"] else np.nan for p in products]),
    )


def load(name: str, root: Path | None = None) -> EvaluationData:
    """A dataset by name: ``online-retail``, ``yoochoose-100k`` or ``demo``."""
    folder = root or datasets_dir()
    loaders: dict[str, Callable[[], EvaluationData]] = {
        "online-retail": lambda: online_retail(folder),
        "yoochoose-100k": lambda: yoochoose(folder),
        "demo": demo_store,
    }
    if name not in loaders:
        raise InteractionsError(f"unknown dataset {name!r}; choose among {', '.join(DATASET_NAMES)}")
    return loaders[name]()
