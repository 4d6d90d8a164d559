"""`shopsight pricing` over a published demo warehouse and over the real online-retail sales."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.engines import open_warehouse_engine
from shopsight.ml.pricing.sources import online_retail_sales, warehouse_sales
from shopsight.platform import Platform
from shopsight.testing.warehouse import build_demo_warehouse
from shopsight.warehouse.reader import WarehouseReader
from shopsight.warehouse.store import WarehouseStore

runner = CliRunner()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    built = build_demo_warehouse(tmp_path_factory.mktemp("pricing-home"), events=3_000, days=60)
    yield built
    built.close()


def test_weekly_sales_add_up_to_the_order_lines(platform: Platform) -> None:
    settings = platform.settings
    reader = WarehouseReader(WarehouseStore(settings.warehouse_dir), lambda: open_warehouse_engine(settings))
    with reader.current() as (_version, tables):
        sales = warehouse_sales(tables)
        lines = tables["fact_order_item"].to_pandas()
    reader.close()
    sold = lines[lines["quantity"] > 0]
    assert sales["units"].sum() == pytest.approx(float(sold["quantity"].sum()))
    revenue = (sales["price"] * sales["units"]).sum()
    assert revenue == pytest.approx(float(sold["line_amount"].sum()), rel=1e-9)
    assert sales["promo"].between(0, 1).all()


def test_recommend_answers_json_with_drivers_for_every_product(platform: Platform) -> None:
    result = runner.invoke(
        app, ["--home", str(platform.settings.home), "pricing", "recommend", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    answers = json.loads(result.output)
    for answer in answers:
        assert answer["drivers"] and answer["action"] in {"raise", "lower", "hold", "markdown"}
        assert abs(answer["change"]) <= 0.5 + 1e-9


def test_an_empty_home_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path), "pricing", "recommend"])
    assert result.exit_code != 0 and "error" in result.output.lower()


def test_online_retail_elasticities_from_the_real_sales() -> None:
    sales = online_retail_sales(top=30)
    assert sales["product_id"].nunique() == 30 and (sales["price"] > 0).all()
    result = runner.invoke(app, ["pricing", "elasticity", "--dataset", "online-retail", "--top", "30",
                                 "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    fits = json.loads(result.output)
    assert len(fits) >= 25
    assert all(f["ci_low"] <= f["elasticity"] <= f["ci_high"] for f in fits)
