"""Staging copies of the raw entity records: deduplicated, kept across runs, read by every later model.

Only these tables (and ``stg_event``) read the raw zone. An incremental run builds them from the new raw
partitions alone and merges the result into the previous version, so nothing else needs the old raw files.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.types as ir

from shopsight.warehouse.context import BuildContext, first_seen

# Entity kinds staged as records (events have their own typed staging table).
ENTITY_KINDS = ("order", "customer", "product", "location", "review", "marketing_spend", "inventory_level")


def staged_records(kind: str) -> Callable[[BuildContext], ir.Table]:
    """The builder of ``stg_<kind>``: raw records of one kind, one row per record id."""

    def build(ctx: BuildContext) -> ir.Table:
        return first_seen(ctx.table(f"raw_{kind}"), "id")

    build.__name__ = f"stg_{kind}"
    return build
