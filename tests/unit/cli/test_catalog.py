"""``shopsight catalog`` prints the catalog as a table, JSON or a Mermaid lineage diagram."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from shopsight.cli.main import app

runner = CliRunner()


def test_json_export_holds_tables_lineage_and_metrics(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path), "catalog", "--format", "json"])
    assert result.exit_code == 0, result.output
    exported = orjson.loads(result.output)
    assert {"tables", "lineage", "metrics"} <= set(exported)
    assert any(t["name"] == "kpi_daily" and t["layer"] == "mart" for t in exported["tables"])


def test_table_filter_narrows_the_mermaid_diagram(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--home", str(tmp_path), "catalog", "--format", "mermaid", "--table", "dim_product"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "flowchart LR", "  subgraph raw", "    raw_product[(raw_product)]", "  end",
        "  subgraph staging", "    stg_product[stg_product]", "  end",
        "  subgraph curated", "    dim_product[dim_product]", "  end",
        "  subgraph mart", "    kpi_daily_by_category[[kpi_daily_by_category]]",
        "    mart_top_products[[mart_top_products]]", "  end",
        "  raw_product --> stg_product", "  stg_product --> dim_product",
        "  dim_product --> kpi_daily_by_category", "  dim_product --> mart_top_products",
    ]  # fmt: skip


def test_rich_table_and_unknown_table(tmp_path: Path) -> None:
    shown = runner.invoke(app, ["--home", str(tmp_path), "catalog", "--table", "fact_payment"])
    assert shown.exit_code == 0 and "card_token" in shown.output and "payment" in shown.output
    unknown = runner.invoke(app, ["--home", str(tmp_path), "catalog", "--table", "nope"])
    assert unknown.exit_code == 2 and "unknown table 'nope'" in unknown.output
