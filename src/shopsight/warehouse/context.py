"""What a transform sees: the engine's primitives, the tables built so far, and the store's conventions."""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from shopsight.warehouse.engine import WarehouseEngine


@dataclass
class BuildContext:
    """Inputs of one pipeline run. ``tables`` holds raw tables (``raw_<kind>``) and every built table."""

    engine: WarehouseEngine
    timezone: str = "UTC"
    reporting_currency: str = "USD"
    session_gap_minutes: int = 30
    tables: dict[str, ir.Table] = field(default_factory=dict)

    def table(self, name: str) -> ir.Table:
        """A raw or already built table."""
        return self.tables[name]

    def json(self, payload: ir.StringValue, path: str) -> ir.StringValue:
        """Text at a JSONPath of a payload ('' counts as absent)."""
        value = self.engine.json_text(payload, path)
        return value.nullif("")

    def number(self, payload: ir.StringValue, path: str) -> ir.FloatingValue:
        """A JSON number as float64 (NULL when absent or not a number)."""
        return self.engine.json_text(payload, path).try_cast("float64")

    def integer(self, payload: ir.StringValue, path: str) -> ir.IntegerValue:
        """A JSON integer as int64 (NULL when absent or not a number)."""
        return self.number(payload, path).cast("int64")

    def flag(self, payload: ir.StringValue, path: str) -> ir.BooleanValue:
        """A JSON boolean (NULL when absent)."""
        text = self.engine.json_text(payload, path)
        return ibis.cases((text == "true", True), (text == "false", False), else_=ibis.null("boolean"))

    def timestamp(self, payload: ir.StringValue, path: str) -> ir.TimestampValue:
        """An ISO-8601 instant as a UTC timestamp."""
        text = self.engine.json_text(payload, path)
        return text.try_cast("timestamp('UTC')")

    def local(self, ts: ir.TimestampValue) -> ir.TimestampValue:
        """Wall-clock time in the store's time zone."""
        return self.engine.local_time(ts, self.timezone)

    def latest_records(self, kind: str, key: str) -> ir.Table:
        """The newest staged record of each entity of ``kind``, with its key as a column named ``key``."""
        raw = self.table(f"stg_{kind}")
        return latest(raw.mutate(**{key: self.json(raw.payload, f"$.{key}")}), key)

    def local_date(self, ts: ir.TimestampValue) -> ir.DateValue:
        """The store-local calendar day of an instant (late events still land on their own day)."""
        return self.local(ts).date()


def latest(table: ir.Table, key: ir.Value | str) -> ir.Table:
    """The newest version of each key (by arrival, then log position): entity records are full states."""
    order = [ibis.desc("received_at"), ibis.desc("log_offset"), ibis.desc("id")]
    window = ibis.window(group_by=key, order_by=order)
    ranked = table.mutate(_version_rank=ibis.row_number().over(window))
    return ranked.filter(ranked._version_rank == 0).drop("_version_rank")


def first_seen(table: ir.Table, key: str) -> ir.Table:
    """One row per ``key``: the first received (duplicates in the raw zone are dropped)."""
    order = [ibis.asc("received_at"), ibis.asc("log_offset")]
    window = ibis.window(group_by=key, order_by=order)
    ranked = table.mutate(_dup_rank=ibis.row_number().over(window))
    return ranked.filter(ranked._dup_rank == 0).drop("_dup_rank")
