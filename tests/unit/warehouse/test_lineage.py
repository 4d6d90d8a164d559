"""Lineage is read off the transforms: inputs of each table, and the Mermaid diagram."""

from __future__ import annotations

from shopsight.warehouse.lineage import derive_lineage, mermaid, related
from shopsight.warehouse.model import TABLES


def _inputs() -> dict[str, tuple[str, ...]]:
    return {node.name: node.inputs for node in derive_lineage()}


def test_inputs_are_the_tables_each_transform_reads() -> None:
    inputs = _inputs()
    assert inputs["stg_event"] == ("raw_event",)
    assert inputs["fact_event"] == ("identity_map", "stg_event")
    assert inputs["fact_session"] == ("fact_event",)
    assert inputs["fact_order"] == ("fact_order_item", "fx_rate", "stg_order")
    assert inputs["kpi_daily"] == ("fact_marketing_spend", "fact_order", "fact_refund", "fact_session")
    assert inputs["dim_date"] == ("fact_event", "fact_marketing_spend", "fact_order")


def test_every_table_is_built_after_its_inputs_and_reaches_back_to_the_raw_zone() -> None:
    nodes = derive_lineage()
    seen: set[str] = set()
    for node in nodes:
        assert set(node.inputs) <= seen, node.name
        seen.add(node.name)
        if node.layer not in ("raw", "seed"):
            assert any(n.layer == "raw" for n in related(nodes, node.name)), node.name
    assert {spec.name for spec in TABLES} <= seen


def test_mermaid_has_one_subgraph_per_layer_and_one_arrow_per_input() -> None:
    nodes = derive_lineage()
    diagram = mermaid(nodes)
    assert diagram.startswith("flowchart LR\n")
    assert (
        "  subgraph mart\n    kpi_daily[[kpi_daily]]\n    kpi_daily_by_channel[[kpi_daily_by_channel]]\n"
        in diagram
    )
    assert "  raw_event --> stg_event" in diagram
    assert diagram.count("-->") == sum(len(node.inputs) for node in nodes)


def test_related_keeps_only_upstream_and_downstream() -> None:
    names = {node.name for node in related(derive_lineage(), "fact_session")}
    upstream = {"raw_event", "stg_event", "identity_map", "fact_event", "fact_session"}
    downstream = {
        "kpi_daily",
        "kpi_daily_by_channel",
        "kpi_daily_by_country",
        "kpi_daily_by_device",
        "mart_funnel",
    }
    assert names == upstream | downstream
